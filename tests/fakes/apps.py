"""ClientStore, AppLookup, AppStore and ClientSecretOwners, as paced/storage/apps.py."""

from __future__ import annotations

from datetime import datetime

from paced.core.records import App, Client, ClientSecret, SecretDigest
from tests.fakes.rows import AppRow, ClientSecretRow
from tests.fakes.tables import Rows, oldest_first, stale


def app_from(row: AppRow) -> App:
    return App(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        homepage_url=row.homepage_url,
        client_id=row.client_id,
        redirect_uris=row.redirect_uris,
        public=row.public,
        created_at=row.created_at,
        updated_at=row.updated_at,
        device_flow=row.device_flow,
        registration=row.registration,
    )


class AppRows(Rows):
    async def app_by_client_id(self, client_id: str) -> App | None:
        row = self.db.apps.first(client_id=client_id)
        return app_from(row) if row else None

    async def client_by_id(self, client_id: str) -> Client | None:
        row = self.db.apps.first(client_id=client_id)
        if row is None:
            return None
        secrets = tuple(
            SecretDigest(s.id, s.digest, s.last_used_at)
            for s in self.db.client_secrets.where(app_id=row.id)
        )
        return Client(app_from(row), secrets)

    async def touch_client_secret(
        self, secret_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        for row in self.db.client_secrets.where(id=secret_id):
            if stale(row.last_used_at, unused_since):
                row.last_used_at = now

    async def app_of_client_secret(self, digest: str) -> App | None:
        secret = self.db.client_secrets.first(digest=digest)
        row = self.db.apps.first(id=secret.app_id) if secret else None
        return app_from(row) if row else None

    async def add_app(self, app: App) -> None:
        self._insert(
            self.db.apps,
            AppRow(
                id=app.id,
                owner_id=app.owner_id,
                name=app.name,
                description=app.description,
                homepage_url=app.homepage_url,
                client_id=app.client_id,
                redirect_uris=tuple(app.redirect_uris),
                public=app.public,
                created_at=app.created_at,
                updated_at=app.updated_at,
                device_flow=app.device_flow,
                registration=app.registration,
            ),
        )

    async def save_document_client(self, app: App) -> None:
        found = self.db.apps.where(client_id=app.client_id, registration="document")
        for row in found:
            row.name, row.homepage_url = app.name, app.homepage_url
            row.redirect_uris, row.updated_at = tuple(app.redirect_uris), app.updated_at
        if found:
            return
        row = AppRow(
            id=app.id,
            owner_id=None,
            name=app.name,
            description="",
            homepage_url=app.homepage_url,
            client_id=app.client_id,
            redirect_uris=tuple(app.redirect_uris),
            public=True,
            created_at=app.created_at,
            updated_at=app.updated_at,
            device_flow=False,
            registration="document",
        )
        self._insert_or_nothing(self.db.apps, row)

    async def app_by_id(self, app_id: str) -> App | None:
        row = self.db.apps.first(id=app_id)
        return app_from(row) if row else None

    async def app_of_owner(self, app_id: str, owner_id: str) -> App | None:
        row = self.db.apps.first(id=app_id, owner_id=owner_id)
        return app_from(row) if row else None

    async def apps_of_owner(self, owner_id: str) -> list[App]:
        owned = sorted(self.db.apps.where(owner_id=owner_id), key=lambda row: row.id)
        owned.sort(key=lambda row: row.created_at, reverse=True)
        return [app_from(row) for row in owned]

    async def update_app(self, app: App) -> None:
        for row in self.db.apps.where(id=app.id):
            row.name, row.description, row.homepage_url = (
                app.name,
                app.description,
                app.homepage_url,
            )
            row.redirect_uris, row.device_flow = tuple(app.redirect_uris), app.device_flow
            row.updated_at = app.updated_at

    async def delete_app(self, app_id: str) -> None:
        self._delete(self.db.apps, lambda row: row.id == app_id)

    async def client_secrets(self, app_id: str) -> list[ClientSecret]:
        return [
            ClientSecret(row.id, row.app_id, row.created_at, row.last_used_at, row.hint)
            for row in sorted(self.db.client_secrets.where(app_id=app_id), key=oldest_first)
        ]

    async def add_client_secret(self, secret: ClientSecret, digest: str, *, limit: int) -> bool:
        if self.db.apps.first(id=secret.app_id) is None:
            return False
        if len(self.db.client_secrets.where(app_id=secret.app_id)) >= limit:
            return False
        row = ClientSecretRow(
            secret.id, secret.app_id, digest, secret.created_at, secret.last_used_at, secret.hint
        )
        self._insert(self.db.client_secrets, row)
        return True

    async def delete_client_secret_by_digest(self, digest: str) -> bool:
        return bool(self._delete(self.db.client_secrets, lambda row: row.digest == digest))

    async def delete_client_secret(self, app_id: str, secret_id: str) -> bool:
        return bool(
            self._delete(
                self.db.client_secrets, lambda row: row.id == secret_id and row.app_id == app_id
            )
        )
