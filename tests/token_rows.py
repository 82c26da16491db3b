"""Rows for Bearer tests, written straight into the database: users, personal access
tokens, and OAuth access tokens under a grant of an app (as the token endpoint stores them:
only the SHA-256 digest, scopes space-separated)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert

from paced.core import personal_tokens, token_format
from paced.core.ids import digest, new_id, random_base62
from paced.core.records import User
from paced.storage.database import Database
from paced.storage.models import access_tokens, apps, grants, users
from tests.helpers import ORIGIN, begin


async def add_user(engine: Database, now: datetime, email: str = "ann@example.com") -> User:
    user = User(new_id("user"), email, "Ann", "UTC", now, now)
    async with begin(engine) as connection:
        await connection.execute(
            insert(users).values(
                id=user.id,
                email=email,
                email_key=email.casefold(),
                name=user.name,
                time_zone=user.time_zone,
                password_hash="not-a-hash",
                created_at=now,
                updated_at=now,
            )
        )
    return user


async def add_personal_token(
    engine: Database,
    user: User,
    now: datetime,
    *,
    scopes: tuple[str, ...] | None = None,
    expires_at: datetime | None = None,
) -> personal_tokens.IssuedToken:
    async with engine.unit_of_work() as store:
        return await personal_tokens.create(
            store,
            user.id,
            personal_tokens.NewToken(name="test", scopes=scopes, expires_at=expires_at),
            now,
            origin=ORIGIN,
        )


@dataclass(frozen=True)
class OAuthToken:
    secret: str
    token_id: str
    grant_id: str
    client_id: str


async def add_oauth_token(
    engine: Database,
    user: User,
    now: datetime,
    *,
    scopes: str = "read",
    lifetime: timedelta = timedelta(hours=2),
    revoked: bool = False,
    grant_revoked: bool = False,
) -> OAuthToken:
    secret = token_format.generate("pt_oauth_")
    app_id, grant_id, token_id = new_id("app"), new_id("grant"), "at_" + random_base62(24)
    client_id = random_base62(32)
    async with begin(engine) as connection:
        await connection.execute(
            insert(apps).values(
                id=app_id,
                owner_id=user.id,
                name="Integration",
                description="",
                homepage_url="",
                client_id=client_id,
                redirect_uris=json.dumps(["https://app.example/callback"]),
                public=False,
                created_at=now,
                updated_at=now,
            )
        )
        await connection.execute(
            insert(grants).values(
                id=grant_id,
                app_id=app_id,
                user_id=user.id,
                scopes=scopes,
                created_at=now,
                last_used_at=None,
                revoked_at=now if grant_revoked else None,
            )
        )
        await connection.execute(
            insert(access_tokens).values(
                id=token_id,
                grant_id=grant_id,
                digest=digest(secret),
                scopes=scopes,
                created_at=now,
                expires_at=now + lifetime,
                revoked_at=now if revoked else None,
            )
        )
    return OAuthToken(secret, token_id, grant_id, client_id)
