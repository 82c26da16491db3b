"""The Bearer check: header parsing, format before any read, expiry, revocation, scope,
and coarse last-use writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import bearer, token_format
from paced.core.errors import (
    BearerError,
    InsufficientScope,
    InvalidBearerRequest,
    InvalidToken,
    MissingCredentials,
)
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import BearerToken, Principal, User

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
POLICY = Policy()
USER = User("user_1", "ann@example.com", "Ann", "UTC", NOW, NOW)


class FakeStore:
    """Counts reads and writes, so that tests can say which requests cost what."""

    def __init__(self, *tokens: tuple[str, BearerToken]) -> None:
        self.rows = {digest(secret): row for secret, row in tokens}
        self.reads: list[str] = []
        self.writes: list[tuple[str, datetime]] = []

    async def personal_bearer_token(self, digest: str) -> BearerToken | None:
        self.reads.append("personal")
        row = self.rows.get(digest)
        return row if row and row.kind == "personal" else None

    async def oauth_bearer_token(self, digest: str) -> BearerToken | None:
        self.reads.append("oauth")
        row = self.rows.get(digest)
        return row if row and row.kind == "oauth" else None

    async def record_personal_token_use(
        self, token_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        self.writes.append((token_id, now))
        self._touch(token_id, now)

    async def record_grant_use(
        self, grant_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        self.writes.append((grant_id, now))
        self._touch(grant_id, now)

    def _touch(self, use_id: str, now: datetime) -> None:
        for key, row in self.rows.items():
            if use_id in (row.id, row.grant_id):
                self.rows[key] = replace(row, last_used_at=now)


def personal(secret: str, **changes: object) -> tuple[str, BearerToken]:
    row = BearerToken(
        kind="personal",
        id="pat_1",
        digest=digest(secret),
        user=USER,
        scopes=("read", "write"),
        expires_at=None,
        revoked=False,
        last_used_at=None,
    )
    return secret, replace(row, **changes)  # type: ignore[arg-type]


def oauth(secret: str, **changes: object) -> tuple[str, BearerToken]:
    row = BearerToken(
        kind="oauth",
        id="at_1",
        digest=digest(secret),
        user=USER,
        scopes=("read",),
        expires_at=NOW + timedelta(hours=2),
        revoked=False,
        last_used_at=None,
        client_id="client-1",
        grant_id="grant_1",
    )
    return secret, replace(row, **changes)  # type: ignore[arg-type]


async def authenticate(store: FakeStore, *header: str, now: datetime = NOW) -> Principal:
    return await bearer.authenticate(store, list(header), now, POLICY)


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ((), MissingCredentials),
        (("",), MissingCredentials),
        (("Basic YW5uOnNlY3JldA==",), MissingCredentials),
        (("Bearerpt_secret_x",), MissingCredentials),
        (("Bearer",), InvalidBearerRequest),
        (("Bearer ",), InvalidBearerRequest),
        (("Bearer a b",), InvalidBearerRequest),
        (("Bearer a\tb",), InvalidBearerRequest),
        (("Bearer a", "Bearer b"), InvalidBearerRequest),
        (("Bearer garbage",), InvalidToken),
        (("Bearer pt_refresh_" + "A" * 36,), InvalidToken),
    ],
    ids=[
        "no header",
        "an empty header",
        "the Basic scheme",
        "no space after the scheme",
        "Bearer alone",
        "Bearer and a space",
        "a space inside the token",
        "a tab inside the token",
        "two Authorization headers",
        "garbage",
        "a refresh token",
    ],
)
async def test_header_problems_fail_before_any_database_read(
    header: tuple[str, ...], error: type[BearerError]
) -> None:
    store = FakeStore()
    with pytest.raises(error) as raised:
        await authenticate(store, *header)
    assert type(raised.value) is error
    assert store.reads == []


async def test_a_bad_checksum_is_refused_without_a_database_read() -> None:
    secret = token_format.generate("pt_secret_")
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    store = FakeStore(personal(forged))
    with pytest.raises(InvalidToken, match="malformed"):
        await authenticate(store, f"Bearer {forged}")
    assert store.reads == []


@pytest.mark.parametrize(
    "scheme", ["Bearer", "bearer", "BEARER", "bEaReR"], ids=lambda s: f"scheme {s}"
)
async def test_the_scheme_is_matched_case_insensitively(scheme: str) -> None:
    secret = token_format.generate("pt_secret_")
    store = FakeStore(personal(secret))
    principal = await authenticate(store, f"{scheme} {secret}")
    assert principal == Principal(
        user=USER, scopes=("read", "write"), kind="personal", token_id="pat_1"
    )
    assert store.reads == ["personal"]


async def test_an_oauth_token_acts_for_its_user_and_client() -> None:
    secret = token_format.generate("pt_oauth_")
    store = FakeStore(oauth(secret))
    principal = await authenticate(store, f"Bearer {secret}")
    assert principal == Principal(
        user=USER, scopes=("read",), kind="oauth", token_id="at_1", client_id="client-1"
    )
    assert store.reads == ["oauth"]
    assert store.writes == [("grant_1", NOW)]  # the grant's last use, not the token's


@pytest.mark.parametrize(
    ("prefix", "changes", "message"),
    [
        ("pt_secret_", {"revoked": True}, "revoked"),
        ("pt_secret_", {"expires_at": NOW}, "expired"),
        ("pt_secret_", {"expires_at": NOW - timedelta(days=1)}, "expired"),
        ("pt_oauth_", {"revoked": True}, "revoked"),
        ("pt_oauth_", {"expires_at": NOW}, "expired"),
    ],
    ids=[
        "a revoked personal token",
        "a personal token expiring this second",
        "a personal token expired yesterday",
        "a revoked OAuth token or grant",
        "an expired OAuth token",
    ],
)
async def test_dead_tokens_are_invalid(
    prefix: token_format.Prefix, changes: dict[str, object], message: str
) -> None:
    secret = token_format.generate(prefix)
    row = personal(secret, **changes) if prefix == "pt_secret_" else oauth(secret, **changes)
    store = FakeStore(row)
    with pytest.raises(InvalidToken, match=message):
        await authenticate(store, f"Bearer {secret}")
    assert len(store.reads) == 1 and store.writes == []


async def test_an_unknown_well_formed_token_costs_one_read() -> None:
    store = FakeStore()
    with pytest.raises(InvalidToken, match="not valid"):
        await authenticate(store, f"Bearer {token_format.generate('pt_secret_')}")
    assert store.reads == ["personal"]


async def test_a_row_whose_digest_does_not_match_is_not_accepted() -> None:
    secret, other = token_format.generate("pt_secret_"), token_format.generate("pt_secret_")
    _, row = personal(other)
    store = FakeStore((secret, row))  # keyed by secret's digest, holding another digest
    with pytest.raises(InvalidToken):
        await authenticate(store, f"Bearer {secret}")


async def test_last_use_is_written_at_most_once_a_minute() -> None:
    secret = token_format.generate("pt_secret_")
    store = FakeStore(personal(secret))
    await authenticate(store, f"Bearer {secret}")
    await authenticate(store, f"Bearer {secret}", now=NOW + timedelta(seconds=59))
    assert store.writes == [("pat_1", NOW)]
    await authenticate(store, f"Bearer {secret}", now=NOW + timedelta(seconds=60))
    assert store.writes == [("pat_1", NOW), ("pat_1", NOW + timedelta(seconds=60))]


def test_scope_check() -> None:
    principal = Principal(user=USER, scopes=("write",), kind="personal", token_id="pat_1")
    with pytest.raises(InsufficientScope) as raised:
        bearer.require_scope(principal, "read")
    assert raised.value.scope == "read" and raised.value.status == 403
    bearer.require_scope(principal, "write")


def test_error_descriptions_fit_in_a_www_authenticate_header() -> None:
    # RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E.
    allowed = {chr(c) for c in range(0x20, 0x7F)} - {'"', "\\"}
    for text in (bearer.MALFORMED, bearer.UNKNOWN, bearer.EXPIRED, bearer.REVOKED):
        assert set(text) <= allowed
