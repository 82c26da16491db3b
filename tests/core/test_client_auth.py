"""Client authentication (RFC 6749 §2.3): reading the credentials, then checking them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote_plus

import pytest

from paced.core import token_format
from paced.core.client_auth import (
    FAILED,
    ClientCredentials,
    authenticate,
    read_credentials,
)
from paced.core.errors import InvalidClient, InvalidRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import App, Client, SecretDigest

POLICY = Policy()
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SECRET = token_format.generate("pt_client_")
OTHER_SECRET = token_format.generate("pt_client_")


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: each part form-urlencoded, then base64 of `id:secret`."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def form(text: str) -> dict[str, list[str]]:
    return parse_qs(text, keep_blank_values=True)


# --- read_credentials ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "body", "expected"),
    [
        (basic("abc", SECRET), "", ClientCredentials("abc", SECRET, "client_secret_basic")),
        (
            basic("abc", SECRET),
            "client_id=abc",
            ClientCredentials("abc", SECRET, "client_secret_basic"),
        ),
        (
            None,
            f"client_id=abc&client_secret={SECRET}",
            ClientCredentials("abc", SECRET, "client_secret_post"),
        ),
        (None, "client_id=abc", ClientCredentials("abc", None, "none")),
        (None, "client_id=abc&client_secret=", ClientCredentials("abc", None, "none")),
        (basic("abc", ""), "", ClientCredentials("abc", None, "none")),
        (
            "basic " + basic("abc", SECRET).split()[1],
            "",
            ClientCredentials("abc", SECRET, "client_secret_basic"),
        ),
    ],
    ids=[
        "HTTP Basic is client_secret_basic",
        "HTTP Basic with the same client_id in the body is allowed",
        "client_id and client_secret in the body is client_secret_post",
        "a client_id alone is a public client",
        "an empty client_secret in the body counts as none",
        "HTTP Basic with an empty password counts as none",
        "the Basic scheme name is case-insensitive",
    ],
)
def test_reads_each_method(
    authorization: str | None, body: str, expected: ClientCredentials
) -> None:
    assert read_credentials(authorization, form(body), {}) == expected


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("my:client", SECRET),
        ("a+b", SECRET),
        ("space d", "s3cr3t with spaces"),
        ("ünïcode", "p%ss:w+rd&="),
    ],
    ids=[
        "a client id with a colon",
        "a client id with a plus sign",
        "spaces in the id and the secret",
        "non-ASCII id and a secret with reserved characters",
    ],
)
def test_basic_parts_are_form_urlencoded(client_id: str, secret: str) -> None:
    credentials = read_credentials(basic(client_id, secret), {}, {})
    assert credentials == ClientCredentials(client_id, secret, "client_secret_basic")


def test_a_plus_in_basic_is_a_space_and_percent_2b_is_a_plus() -> None:
    raw = "Basic " + base64.b64encode(b"a+b%2Bc:x%3Ay").decode()
    assert read_credentials(raw, {}, {}) == ClientCredentials("a b+c", "x:y", "client_secret_basic")


@pytest.mark.parametrize(
    ("authorization", "body", "query"),
    [
        (basic("abc", SECRET), f"client_secret={SECRET}", ""),
        (basic("abc", SECRET), f"client_id=abc&client_secret={SECRET}", ""),
        (basic("abc", SECRET), "client_id=xyz", ""),
        (None, f"client_id=abc&client_secret={SECRET}", "client_id=abc"),
        (None, "client_id=abc", f"client_secret={SECRET}"),
        (basic("abc", SECRET), "", "client_id=abc"),
        (None, "client_id=abc&client_id=abc", ""),
        (None, f"client_id=abc&client_secret={SECRET}&client_secret={SECRET}", ""),
        (basic("abc", SECRET), "client_id=abc&client_id=abc", ""),
    ],
    ids=[
        "a secret in the body as well as Basic",
        "both full methods at once",
        "a body client_id different from the Basic one",
        "a client_id in the query string",
        "a client_secret in the query string",
        "Basic plus a client_id in the query string",
        "a repeated client_id",
        "a repeated client_secret",
        "Basic plus a repeated body client_id",
    ],
)
def test_ambiguous_credentials_are_invalid_request(
    authorization: str | None, body: str, query: str
) -> None:
    with pytest.raises(InvalidRequest):
        read_credentials(authorization, form(body), form(query))


@pytest.mark.parametrize(
    ("authorization", "body"),
    [
        (None, ""),
        (None, f"client_secret={SECRET}"),
        (None, "client_id="),
        ("Basic", ""),
        ("Basic !!!notbase64", ""),
        ("Basic " + base64.b64encode(b"no-colon").decode(), ""),
        ("Basic " + base64.b64encode(b":secret").decode(), ""),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), ""),
        ("Basic " + base64.b64encode(b"%ff:x").decode(), ""),
        ("Bearer abc", "client_id=abc"),
    ],
    ids=[
        "no credentials at all",
        "a secret without a client id",
        "an empty client id",
        "Basic with nothing after it",
        "Basic that is not base64",
        "Basic without a colon",
        "Basic with an empty client id",
        "Basic that is not UTF-8",
        "Basic whose percent-encoding is not UTF-8",
        "another authorization scheme",
    ],
)
def test_missing_or_malformed_credentials_are_invalid_client(
    authorization: str | None, body: str
) -> None:
    with pytest.raises(InvalidClient) as raised:
        read_credentials(authorization, form(body), {})
    assert raised.value.description == FAILED


# --- authenticate -------------------------------------------------------------------


@dataclass
class FakeClients:
    """A ClientStore in memory."""

    apps: dict[str, App] = field(default_factory=dict)
    secrets: dict[str, list[SecretDigest]] = field(default_factory=dict)
    touched: list[tuple[str, datetime]] = field(default_factory=list)
    lookups: int = 0

    async def client_by_id(self, client_id: str) -> Client | None:
        self.lookups += 1
        app = self.apps.get(client_id)
        return None if app is None else Client(app, tuple(self.secrets.get(app.id, [])))

    async def touch_client_secret(
        self, secret_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        self.touched.append((secret_id, now))


def make_app(client_id: str, *, public: bool) -> App:
    return App(
        id=f"app_{client_id}",
        owner_id="user_1",
        name=client_id,
        description="",
        homepage_url="",
        client_id=client_id,
        redirect_uris=("https://example.com/cb",),
        public=public,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def store() -> FakeClients:
    clients = FakeClients()
    clients.apps["conf"] = make_app("conf", public=False)
    clients.apps["pub"] = make_app("pub", public=True)
    clients.secrets["app_conf"] = [
        SecretDigest("s1", digest(SECRET), None),
        SecretDigest("s2", digest(OTHER_SECRET), None),
    ]
    return clients


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
@pytest.mark.parametrize(
    ("secret", "secret_id"), [(SECRET, "s1"), (OTHER_SECRET, "s2")], ids=["first", "second"]
)
async def test_either_live_secret_authenticates_by_either_method(
    store: FakeClients, method: str, secret: str, secret_id: str
) -> None:
    credentials = ClientCredentials("conf", secret, method)  # type: ignore[arg-type]
    app = await authenticate(store, credentials, NOW, POLICY)
    assert app.client_id == "conf"
    assert store.touched == [(secret_id, NOW)]


async def test_a_public_client_by_client_id_alone(store: FakeClients) -> None:
    app = await authenticate(store, ClientCredentials("pub", None, "none"), NOW, POLICY)
    assert app.public
    assert store.touched == []


@pytest.mark.parametrize(
    ("credentials", "allow_public"),
    [
        (ClientCredentials("nobody", SECRET, "client_secret_basic"), True),
        (ClientCredentials("nobody", None, "none"), True),
        (
            ClientCredentials("conf", token_format.generate("pt_client_"), "client_secret_post"),
            True,
        ),
        (ClientCredentials("conf", None, "none"), True),
        (ClientCredentials("pub", SECRET, "client_secret_basic"), True),
        (ClientCredentials("pub", None, "none"), False),
        (
            ClientCredentials(
                "conf", SECRET[:-1] + ("x" if SECRET[-1] != "x" else "y"), "client_secret_basic"
            ),
            True,
        ),
        (ClientCredentials("conf", token_format.generate("pt_oauth_"), "client_secret_post"), True),
        (ClientCredentials("x" * 500, None, "none"), True),
    ],
    ids=[
        "an unknown client with a secret",
        "an unknown public client",
        "a wrong secret",
        "a confidential client without a secret",
        "a public client that sends a secret",
        "a public client where only confidential clients may call",
        "a secret with a broken checksum",
        "a token of another kind as the secret",
        "an absurdly long client id",
    ],
)
async def test_every_failure_is_the_same_invalid_client(
    store: FakeClients, credentials: ClientCredentials, allow_public: bool
) -> None:
    with pytest.raises(InvalidClient) as raised:
        await authenticate(store, credentials, NOW, POLICY, allow_public=allow_public)
    assert raised.value.description == FAILED
    assert raised.value.debug  # the detail is for the logs
    assert SECRET not in raised.value.debug and SECRET not in str(raised.value)
    assert store.touched == []


async def test_a_malformed_secret_costs_no_database_read(store: FakeClients) -> None:
    with pytest.raises(InvalidClient):
        await authenticate(
            store, ClientCredentials("conf", "pt_client_nope", "client_secret_post"), NOW, POLICY
        )
    assert store.lookups == 0


async def test_after_the_first_secret_is_deleted_only_the_second_works(
    store: FakeClients,
) -> None:
    store.secrets["app_conf"] = [SecretDigest("s2", digest(OTHER_SECRET), None)]
    with pytest.raises(InvalidClient):
        await authenticate(
            store, ClientCredentials("conf", SECRET, "client_secret_basic"), NOW, POLICY
        )
    app = await authenticate(
        store,
        ClientCredentials("conf", OTHER_SECRET, "client_secret_basic"),
        NOW + timedelta(1),
        POLICY,
    )
    assert app.id == "app_conf"


@pytest.mark.parametrize(
    ("last_used", "written"),
    [(None, True), (NOW - timedelta(seconds=59), False), (NOW - timedelta(seconds=60), True)],
    ids=["never used", "used 59 s ago", "used a minute ago"],
)
async def test_last_use_is_written_only_when_a_minute_old(
    store: FakeClients, last_used: datetime | None, written: bool
) -> None:
    # A write on every token request would say no more, and cost a statement each.
    store.secrets["app_conf"] = [SecretDigest("s1", digest(SECRET), last_used)]
    await authenticate(store, ClientCredentials("conf", SECRET, "client_secret_post"), NOW, POLICY)
    assert store.touched == ([("s1", NOW)] if written else [])
