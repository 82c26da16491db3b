"""A small OAuth world for tests: a user, clients, and codes put straight into the
database as the consent screen would, then driven through the token endpoint's core."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

from sqlalchemy import insert, select

from paced.core import authorization_codes, pkce, refresh_rotation, token_format
from paced.core.authorization_codes import CodeExchange
from paced.core.client_auth import ClientCredentials
from paced.core.ids import digest, new_id, random_base62
from paced.core.policy import Policy
from paced.core.refresh_rotation import RefreshRequest
from paced.core.token_endpoint import FormRequest
from paced.core.token_issuance import IssuedTokens
from paced.storage import models
from paced.storage.database import Database
from tests.helpers import ORIGIN, begin, connect

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
REDIRECT = "https://client.example/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
CHALLENGE = pkce.challenge_of(VERIFIER)
POLICY = Policy()


@dataclass(frozen=True)
class Client:
    app_id: str
    client_id: str
    secret: str | None  # None: a public client

    def credentials(self) -> ClientCredentials:
        if self.secret is None:
            return ClientCredentials(self.client_id, None, "none")
        return ClientCredentials(self.client_id, self.secret, "client_secret_post")

    def form(self) -> dict[str, str]:
        """client_secret_post parameters (a public client: client_id alone)."""
        if self.secret is None:
            return {"client_id": self.client_id}
        return {"client_id": self.client_id, "client_secret": self.secret}


@dataclass(frozen=True)
class Person:
    id: str
    email: str


async def add_user(engine: Database, email: str = "ann@example.com") -> Person:
    person = Person(new_id("user"), email)
    async with begin(engine) as connection:
        await connection.execute(
            insert(models.users).values(
                id=person.id,
                email=email,
                email_key=email.casefold(),
                name="Ann",
                time_zone="UTC",
                password_hash="not-a-hash",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return person


async def add_client(
    engine: Database,
    owner: Person,
    *,
    public: bool = False,
    redirect_uris: tuple[str, ...] = (REDIRECT,),
    name: str = "Zapier",
    device_flow: bool = False,
) -> Client:
    app_id = new_id("app")
    client = Client(
        app_id,
        random_base62(32),
        None if public else token_format.generate(token_format.CLIENT_SECRET),
    )
    async with begin(engine) as connection:
        await connection.execute(
            insert(models.apps).values(
                id=app_id,
                owner_id=owner.id,
                name=name,
                description="",
                homepage_url="",
                client_id=client.client_id,
                redirect_uris=json.dumps(list(redirect_uris)),
                public=public,
                created_at=NOW,
                updated_at=NOW,
                device_flow=device_flow,
            )
        )
        if client.secret is not None:
            await connection.execute(
                insert(models.client_secrets).values(
                    id=f"cs_{random_base62(24)}",
                    app_id=app_id,
                    digest=digest(client.secret),
                    created_at=NOW,
                )
            )
    return client


@dataclass(frozen=True)
class Code:
    code: str
    grant_id: str


async def add_code(
    engine: Database,
    client: Client,
    user: Person,
    *,
    scopes: str = "read",
    challenge: str | None = CHALLENGE,
    redirect_uri: str = REDIRECT,
    when: datetime = NOW,
    ttl: timedelta = POLICY.auth_code_ttl,
) -> Code:
    """What an approval on the consent screen stores: a grant and the digest of its code."""
    code = Code(f"code-{random_base62(40)}", new_id("grant"))
    async with begin(engine) as connection:
        await connection.execute(
            insert(models.grants).values(
                id=code.grant_id,
                app_id=client.app_id,
                user_id=user.id,
                scopes=scopes,
                created_at=when,
            )
        )
        await connection.execute(
            insert(models.authorization_codes).values(
                digest=digest(code.code),
                grant_id=code.grant_id,
                redirect_uri=redirect_uri,
                code_challenge=challenge,
                created_at=when,
                expires_at=when + ttl,
            )
        )
    return code


def form_request(
    params: dict[str, str], *, authorization: str | None = None, query: str = ""
) -> FormRequest:
    return FormRequest(
        content_type="application/x-www-form-urlencoded",
        body=urlencode(params).encode(),
        authorization=authorization,
        query=parse_qs(query, keep_blank_values=True),
    )


async def exchange_code(
    engine: Database,
    client: Client,
    code: Code,
    *,
    when: datetime = NOW,
    policy: Policy = POLICY,
    verifier: str | None = VERIFIER,
) -> IssuedTokens:
    async with engine.unit_of_work() as store:
        return await authorization_codes.exchange(
            store,
            client.credentials(),
            CodeExchange(code.code, REDIRECT, verifier),
            when,
            policy,
            origin=ORIGIN,
        )


async def refresh(
    engine: Database,
    client: Client,
    refresh_token: str,
    *,
    when: datetime = NOW,
    policy: Policy = POLICY,
    scope: str | None = None,
) -> IssuedTokens:
    async with engine.unit_of_work() as store:
        return await refresh_rotation.refresh(
            store,
            client.credentials(),
            RefreshRequest(refresh_token, scope),
            when,
            policy,
            origin=ORIGIN,
        )


async def row(engine: Database, table: str, **where: str) -> dict[str, object]:
    """One row of `table` as a dict, by column equality."""
    model = models.metadata.tables[table]
    statement = select(model).where(*(model.c[name] == value for name, value in where.items()))
    async with connect(engine) as connection:
        (found,) = (await connection.execute(statement)).all()
    return dict(found._asdict())


async def rows(engine: Database, table: str, **where: str) -> list[dict[str, object]]:
    model = models.metadata.tables[table]
    statement = select(model).where(*(model.c[name] == value for name, value in where.items()))
    async with connect(engine) as connection:
        return [dict(found._asdict()) for found in await connection.execute(statement)]
