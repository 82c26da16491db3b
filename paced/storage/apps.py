"""ClientStore and AppStore over SQLAlchemy Core: apps and their client secrets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from paced.core.records import App, Client, ClientSecret, SecretDigest
from paced.storage.connection import StorageConnection
from paced.storage.models import apps, client_secrets

APP_COLUMNS = (
    apps.c.id,
    apps.c.owner_id,
    apps.c.name,
    apps.c.description,
    apps.c.homepage_url,
    apps.c.client_id,
    apps.c.redirect_uris,
    apps.c.public,
    apps.c.created_at,
    apps.c.updated_at,
    apps.c.device_flow,
    apps.c.registration,
)


# The authorization endpoint's lookup.
APP_BY_CLIENT_ID = select(*APP_COLUMNS).where(apps.c.client_id == bindparam("client_id"))
# Client authentication runs on every token request: its statements are built once
# (paced.storage.oauth_tokens). The app and its live secrets in one read: a row per
# secret (one with none for an app that has none).
CLIENT_BY_ID = (
    select(
        *APP_COLUMNS,
        client_secrets.c.id.label("secret_id"),
        client_secrets.c.digest.label("secret_digest"),
        client_secrets.c.last_used_at.label("secret_last_used_at"),
    )
    .select_from(apps.outerjoin(client_secrets, client_secrets.c.app_id == apps.c.id))
    .where(apps.c.client_id == bindparam("client_id"))
)
TOUCH_CLIENT_SECRET = (
    update(client_secrets)
    .where(
        client_secrets.c.id == bindparam("secret_id"),
        or_(
            client_secrets.c.last_used_at.is_(None),
            client_secrets.c.last_used_at <= bindparam("stale_before"),
        ),
    )
    .values(last_used_at=bindparam("now"))
)


def app_from(row: Any) -> App:
    return App(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        homepage_url=row.homepage_url,
        client_id=row.client_id,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        public=bool(row.public),
        created_at=row.created_at,
        updated_at=row.updated_at,
        device_flow=bool(row.device_flow),
        registration=row.registration,
    )


class AppRows:
    connection: StorageConnection

    # --- ClientStore ----------------------------------------------------------------

    async def app_by_client_id(self, client_id: str) -> App | None:
        row = (await self.connection.execute(APP_BY_CLIENT_ID, {"client_id": client_id})).first()
        return app_from(row) if row else None

    async def client_by_id(self, client_id: str) -> Client | None:
        rows = list(await self.connection.execute(CLIENT_BY_ID, {"client_id": client_id}))
        if not rows:
            return None
        secrets = tuple(
            SecretDigest(row.secret_id, row.secret_digest, row.secret_last_used_at)
            for row in rows
            if row.secret_id is not None
        )
        return Client(app_from(rows[0]), secrets)

    async def touch_client_secret(
        self, secret_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        await self.connection.execute(
            TOUCH_CLIENT_SECRET, {"secret_id": secret_id, "now": now, "stale_before": unused_since}
        )

    # --- leaked credentials (paced.core.leaks) ----------------------------------------

    async def app_of_client_secret(self, digest: str) -> App | None:
        row = (
            await self.connection.execute(
                select(*APP_COLUMNS)
                .join(client_secrets, client_secrets.c.app_id == apps.c.id)
                .where(client_secrets.c.digest == digest)
            )
        ).first()
        return app_from(row) if row else None

    # --- AppStore -------------------------------------------------------------------

    async def add_app(self, app: App) -> None:
        await self.connection.execute(
            insert(apps).values(
                id=app.id,
                owner_id=app.owner_id,
                name=app.name,
                description=app.description,
                homepage_url=app.homepage_url,
                client_id=app.client_id,
                redirect_uris=json.dumps(list(app.redirect_uris)),
                public=app.public,
                created_at=app.created_at,
                updated_at=app.updated_at,
                device_flow=app.device_flow,
                registration=app.registration,
            )
        )

    async def save_document_client(self, app: App) -> None:
        changed = {
            "name": app.name,
            "homepage_url": app.homepage_url,
            "redirect_uris": json.dumps(list(app.redirect_uris)),
            "updated_at": app.updated_at,
        }
        updated = await self.connection.execute(
            update(apps)
            .where(apps.c.client_id == app.client_id, apps.c.registration == "document")
            .values(**changed)
        )
        if updated.rowcount:
            return
        row = {
            **changed,
            "id": app.id,
            "owner_id": None,
            "description": "",
            "client_id": app.client_id,
            "public": True,
            "created_at": app.created_at,
            "registration": "document",
        }
        # Two first approvals at once: the second insert does nothing, its grant refers
        # to the same id (derived from the URL).
        dialect_insert = (
            pg_insert if self.connection.dialect.name == "postgresql" else sqlite_insert
        )
        await self.connection.execute(dialect_insert(apps).values(**row).on_conflict_do_nothing())

    async def app_by_id(self, app_id: str) -> App | None:
        row = (
            await self.connection.execute(select(*APP_COLUMNS).where(apps.c.id == app_id))
        ).first()
        return app_from(row) if row else None

    async def app_of_owner(self, app_id: str, owner_id: str) -> App | None:
        row = (
            await self.connection.execute(
                select(*APP_COLUMNS).where(apps.c.id == app_id, apps.c.owner_id == owner_id)
            )
        ).first()
        return app_from(row) if row else None

    async def apps_of_owner(self, owner_id: str) -> list[App]:
        rows = await self.connection.execute(
            select(*APP_COLUMNS)
            .where(apps.c.owner_id == owner_id)
            .order_by(apps.c.created_at.desc(), apps.c.id)
        )
        return [app_from(row) for row in rows]

    async def update_app(self, app: App) -> None:
        await self.connection.execute(
            update(apps)
            .where(apps.c.id == app.id)
            .values(
                name=app.name,
                description=app.description,
                homepage_url=app.homepage_url,
                redirect_uris=json.dumps(list(app.redirect_uris)),
                device_flow=app.device_flow,
                updated_at=app.updated_at,
            )
        )

    async def delete_app(self, app_id: str) -> None:
        # Secrets, grants, codes and tokens go with it: ON DELETE CASCADE (models.py).
        await self.connection.execute(delete(apps).where(apps.c.id == app_id))

    async def client_secrets(self, app_id: str) -> list[ClientSecret]:
        rows = await self.connection.execute(
            select(
                client_secrets.c.id,
                client_secrets.c.app_id,
                client_secrets.c.created_at,
                client_secrets.c.last_used_at,
                client_secrets.c.hint,
            )
            .where(client_secrets.c.app_id == app_id)
            .order_by(client_secrets.c.created_at, client_secrets.c.id)
        )
        return [
            ClientSecret(
                id=row.id,
                app_id=row.app_id,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                hint=row.hint,
            )
            for row in rows
        ]

    async def add_client_secret(self, secret: ClientSecret, digest: str, *, limit: int) -> bool:
        # Lock the app row first, so that two requests at once cannot both see room for
        # one more (PostgreSQL; SQLite's write transactions are serial already).
        locked = await self.connection.execute(
            select(apps.c.id).where(apps.c.id == secret.app_id).with_for_update()
        )
        if locked.first() is None:
            return False
        count = (
            await self.connection.execute(
                select(func.count())
                .select_from(client_secrets)
                .where(client_secrets.c.app_id == secret.app_id)
            )
        ).scalar_one()
        if count >= limit:
            return False
        await self.connection.execute(
            insert(client_secrets).values(
                id=secret.id,
                app_id=secret.app_id,
                digest=digest,
                created_at=secret.created_at,
                last_used_at=secret.last_used_at,
                hint=secret.hint,
            )
        )
        return True

    async def delete_client_secret_by_digest(self, digest: str) -> bool:
        result = await self.connection.execute(
            delete(client_secrets).where(client_secrets.c.digest == digest)
        )
        return bool(result.rowcount)

    async def delete_client_secret(self, app_id: str, secret_id: str) -> bool:
        result = await self.connection.execute(
            delete(client_secrets).where(
                client_secrets.c.id == secret_id, client_secrets.c.app_id == app_id
            )
        )
        return bool(result.rowcount)
