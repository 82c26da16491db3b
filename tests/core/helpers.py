"""The small OAuth world of tests/oauth_helpers.py, in the core tests' memory store: a
user, clients and codes stored as the consent screen would store them, then driven
through the token endpoint's core; and accounts with personal access tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from paced.core import authorization_codes, personal_tokens, refresh_rotation, token_format
from paced.core.authorization_codes import CodeExchange
from paced.core.ids import digest, new_id, random_base62
from paced.core.policy import Policy
from paced.core.records import App, ClientSecret, Grant, User
from paced.core.refresh_rotation import RefreshRequest
from paced.core.token_issuance import IssuedTokens
from tests.fakes import MemoryStore, unit_of_work
from tests.helpers import ORIGIN
from tests.oauth_helpers import (
    CHALLENGE,
    NOW,
    POLICY,
    REDIRECT,
    VERIFIER,
    Client,
    Code,
    Person,
    form_request,
)

__all__ = [
    "CHALLENGE",
    "NOW",
    "POLICY",
    "REDIRECT",
    "VERIFIER",
    "Client",
    "Code",
    "Person",
    "add_account",
    "add_client",
    "add_code",
    "add_personal_token",
    "add_user",
    "exchange_code",
    "form_request",
    "refresh",
]


async def add_user(memory: MemoryStore, email: str = "ann@example.com") -> Person:
    person = Person(new_id("user"), email)
    await add_account(memory, NOW, email, user_id=person.id)
    return person


async def add_account(
    memory: MemoryStore, now: datetime, email: str = "ann@example.com", *, user_id: str = ""
) -> User:
    user = User(user_id or new_id("user"), email, "Ann", "UTC", now, now)
    assert await memory.add_user(user=user, email_key=email.casefold(), password_hash="x")
    return user


async def add_client(
    memory: MemoryStore,
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
    await memory.add_app(
        App(
            app_id,
            owner.id,
            name,
            "",
            "",
            client.client_id,
            redirect_uris,
            public,
            NOW,
            NOW,
            device_flow=device_flow,
        )
    )
    if client.secret is not None:
        secret = ClientSecret(f"cs_{random_base62(24)}", app_id, NOW, None)
        assert await memory.add_client_secret(secret, digest(client.secret), limit=2)
    return client


async def add_code(
    memory: MemoryStore,
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
    grant = Grant(code.grant_id, client.app_id, user.id, tuple(scopes.split()), when, None, None)
    await memory.add_grant(grant, redirect_uri=None)
    await memory.add_authorization_code(
        digest=digest(code.code),
        grant_id=code.grant_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        created_at=when,
        expires_at=when + ttl,
    )
    return code


async def exchange_code(
    memory: MemoryStore,
    client: Client,
    code: Code,
    *,
    when: datetime = NOW,
    policy: Policy = POLICY,
    verifier: str | None = VERIFIER,
) -> IssuedTokens:
    async with unit_of_work(memory) as store:
        return await authorization_codes.exchange(
            store,
            client.credentials(),
            CodeExchange(code.code, REDIRECT, verifier),
            when,
            policy,
            origin=ORIGIN,
        )


async def refresh(
    memory: MemoryStore,
    client: Client,
    refresh_token: str,
    *,
    when: datetime = NOW,
    policy: Policy = POLICY,
    scope: str | None = None,
) -> IssuedTokens:
    async with unit_of_work(memory) as store:
        return await refresh_rotation.refresh(
            store,
            client.credentials(),
            RefreshRequest(refresh_token, scope),
            when,
            policy,
            origin=ORIGIN,
        )


async def add_personal_token(
    memory: MemoryStore,
    user: User,
    now: datetime,
    *,
    scopes: tuple[str, ...] | None = None,
    expires_at: datetime | None = None,
) -> personal_tokens.IssuedToken:
    async with unit_of_work(memory) as store:
        return await personal_tokens.create(
            store,
            user.id,
            personal_tokens.NewToken(name="test", scopes=scopes, expires_at=expires_at),
            now,
            origin=ORIGIN,
        )
