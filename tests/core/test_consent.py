"""The user's answer (RFC 6749 §4.1.2): grants, codes, skipping the screen, denial."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paced.core import consent
from paced.core.authorization_request import AuthorizationErrorResponse, AuthorizationRequest
from paced.core.ids import digest
from paced.core.policy import Policy
from paced.core.records import App, Grant, User
from tests.helpers import ORIGIN, MemoryLog, MemoryMail

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
ANN = User("user_ann", "ann@example.com", "Ann", "UTC", NOW, NOW)
OWNER = User("user_owner", "olivia@example.com", "Olivia", "UTC", NOW, NOW)
BOB = User("user_bob", "bob@example.com", "Bob", "UTC", NOW, NOW)
APP = App(
    id="app_1",
    owner_id="user_owner",
    name="Client",
    description="",
    homepage_url="",
    client_id="client1",
    redirect_uris=("https://client.example/cb",),
    public=False,
    created_at=NOW,
    updated_at=NOW,
)


def auth_request(**changes: Any) -> AuthorizationRequest:
    request = AuthorizationRequest(
        app=APP,
        redirect_uri="https://client.example/cb",
        requested_redirect_uri="https://client.example/cb",
        scopes=("read",),
        state="xyz",
        code_challenge=CHALLENGE,
        prompt=None,
        parameters=(),
    )
    return replace(request, **changes)


@dataclass
class StoredCode:
    digest: str
    grant_id: str
    redirect_uri: str
    code_challenge: str | None
    created_at: datetime
    expires_at: datetime


class FakeStore(MemoryLog, MemoryMail):
    def __init__(self) -> None:
        self.grants: list[Grant] = []
        self.redirect_uris: dict[str, str] = {}  # grant id -> where it was approved for
        self.codes: list[StoredCode] = []

    async def add_grant(self, grant: Grant, *, redirect_uri: str) -> None:
        self.grants.append(grant)
        self.redirect_uris[grant.id] = redirect_uri

    async def add_authorization_code(self, **fields: Any) -> None:
        self.codes.append(StoredCode(**fields))

    async def user_by_id(self, user_id: str) -> User | None:
        return OWNER if user_id == OWNER.id else None

    async def granted_scopes(self, user_id: str, app_id: str, redirect_uri: str) -> frozenset[str]:
        return frozenset(
            scope
            for g in self.grants
            if g.user_id == user_id
            and g.app_id == app_id
            and self.redirect_uris[g.id] == redirect_uri
            and g.revoked_at is None
            for scope in g.scopes
        )


async def test_approval_creates_a_grant_bound_to_user_app_and_scopes() -> None:
    store = FakeStore()
    approval = await consent.approve(
        store,
        auth_request(scopes=("read", "write")),
        ANN,
        NOW,
        Policy(),
        origin=ORIGIN,
    )
    assert store.grants == [approval.grant]
    grant = approval.grant
    assert grant.id.startswith("grant_") and len(grant.id) == len("grant_") + 24
    assert (grant.app_id, grant.user_id, grant.scopes) == ("app_1", "user_ann", ("read", "write"))
    assert (grant.created_at, grant.last_used_at, grant.revoked_at) == (NOW, None, None)


async def test_section_4_1_2_the_code_is_bound_to_redirect_uri_and_challenge_and_is_short_lived() -> (
    None
):
    store = FakeStore()
    policy = Policy(auth_code_ttl=timedelta(seconds=90))
    approval = await consent.approve(store, auth_request(), ANN, NOW, policy, origin=ORIGIN)
    [code] = store.codes
    assert code.grant_id == approval.grant.id
    assert code.redirect_uri == "https://client.example/cb"
    assert code.code_challenge == CHALLENGE
    assert code.created_at == NOW
    assert code.expires_at == NOW + timedelta(seconds=90)


async def test_the_code_is_stored_only_as_its_digest_and_is_high_entropy() -> None:
    store = FakeStore()
    approval = await consent.approve(store, auth_request(), ANN, NOW, Policy(), origin=ORIGIN)
    assert store.codes[0].digest == digest(approval.code)
    assert approval.code not in repr(store.codes)
    assert len(approval.code) >= 43  # 256 random bits, base64url
    other = await consent.approve(store, auth_request(), ANN, NOW, Policy(), origin=ORIGIN)
    assert other.code != approval.code


async def test_a_redirect_uri_omitted_from_the_request_is_stored_as_omitted() -> None:
    store = FakeStore()
    await consent.approve(
        store, auth_request(requested_redirect_uri=""), ANN, NOW, Policy(), origin=ORIGIN
    )
    assert store.codes[0].redirect_uri == ""


async def test_a_code_without_pkce_stores_no_challenge() -> None:
    store = FakeStore()
    await consent.approve(
        store, auth_request(code_challenge=None), ANN, NOW, Policy(), origin=ORIGIN
    )
    assert store.codes[0].code_challenge is None


async def test_section_4_1_2_and_rfc_9207_the_answer_carries_code_state_and_iss() -> None:
    approval = await consent.approve(FakeStore(), auth_request(), ANN, NOW, Policy(), origin=ORIGIN)
    assert approval.response_parameters("https://paced.example") == [
        ("code", approval.code),
        ("state", "xyz"),
        ("iss", "https://paced.example"),
    ]
    stateless = await consent.approve(
        FakeStore(), auth_request(state=None), ANN, NOW, Policy(), origin=ORIGIN
    )
    assert [name for name, _ in stateless.response_parameters("x")] == ["code", "iss"]


def test_section_4_1_2_1_denial_is_access_denied_sent_to_the_client_with_state() -> None:
    error = consent.deny(auth_request())
    assert isinstance(error, AuthorizationErrorResponse)
    assert error.error == "access_denied"
    assert error.redirect_uri == "https://client.example/cb"
    assert error.state == "xyz"


# --- Skipping the screen ------------------------------------------------------------------


async def test_the_screen_names_the_apps_owner_and_is_skipped_once_approved() -> None:
    store = FakeStore()
    shown = await consent.screen(store, auth_request(), ANN)
    assert shown is not None and shown.owner == OWNER
    await consent.approve(store, auth_request(), ANN, NOW, Policy(), origin=ORIGIN)
    assert await consent.screen(store, auth_request(), ANN) is None


async def test_a_first_request_needs_consent() -> None:
    assert await consent.needs_consent(FakeStore(), auth_request(), ANN)


async def granted(*scope_sets: tuple[str, ...], user: User = ANN) -> FakeStore:
    store = FakeStore()
    for scopes in scope_sets:
        await consent.approve(
            store, auth_request(scopes=scopes), user, NOW, Policy(), origin=ORIGIN
        )
    return store


@pytest.mark.parametrize(
    ("earlier", "asked", "asks_again"),
    [
        ([("read",)], ("read",), False),
        ([("read", "write")], ("read",), False),
        ([("read",), ("write",)], ("read", "write"), False),
        ([("read",)], ("read", "write"), True),
        ([("write",)], ("read",), True),
    ],
    ids=[
        "the same scopes again skip the screen",
        "fewer scopes than granted skip the screen",
        "scopes granted across two approvals together skip the screen",
        "a scope never granted shows the screen",
        "another scope shows the screen",
    ],
)
async def test_a_live_earlier_approval_covering_the_scopes_skips_the_screen(
    earlier: list[tuple[str, ...]], asked: tuple[str, ...], asks_again: bool
) -> None:
    store = await granted(*earlier)
    assert await consent.needs_consent(store, auth_request(scopes=asked), ANN) is asks_again


async def test_prompt_consent_shows_the_screen_anyway() -> None:
    store = await granted(("read",))
    assert await consent.needs_consent(store, auth_request(prompt="consent"), ANN)


async def test_a_revoked_approval_does_not_count() -> None:
    store = await granted(("read",))
    store.grants = [replace(g, revoked_at=NOW) for g in store.grants]
    assert await consent.needs_consent(store, auth_request(), ANN)


async def test_another_users_approval_does_not_count() -> None:
    store = await granted(("read",), user=BOB)
    assert await consent.needs_consent(store, auth_request(), ANN)


@pytest.mark.parametrize(
    ("redirect_uri", "asks_again"),
    [
        ("http://127.0.0.1:8123/cb", True),
        ("com.example.app:/callback", True),
        ("https://client.example/cb", False),
    ],
    ids=[
        "a public client on a loopback redirect is always asked",
        "a public client on a private-use scheme is always asked",
        "a public client on an https redirect may skip",
    ],
)
async def test_rfc_8252_section_8_6_a_public_client_that_cannot_prove_who_it_is_is_asked_again(
    redirect_uri: str, asks_again: bool
) -> None:
    public = replace(APP, public=True)
    store = FakeStore()
    await consent.approve(store, auth_request(app=public), ANN, NOW, Policy(), origin=ORIGIN)
    request = auth_request(app=public, redirect_uri=redirect_uri)
    assert await consent.needs_consent(store, request, ANN) is asks_again


async def test_a_skipped_screen_still_makes_a_new_grant_and_code() -> None:
    store = await granted(("read",))
    assert not await consent.needs_consent(store, auth_request(), ANN)
    second = await consent.approve(store, auth_request(), ANN, NOW, Policy(), origin=ORIGIN)
    assert len(store.grants) == 2 and len(store.codes) == 2
    assert second.grant.id != store.grants[0].id


@pytest.mark.parametrize(
    ("approved_at", "asked_at", "asks_again"),
    [
        ("https://client.example/cb", "https://client.example/cb2", True),
        ("http://127.0.0.1:50001/cb", "http://127.0.0.1:50002/cb", True),
        ("http://127.0.0.1:50001/cb", "http://127.0.0.1/cb", True),
        ("http://127.0.0.1:50001/cb", "http://localhost:50001/cb", True),
        ("http://127.0.0.1:50001/cb", "http://127.0.0.1:50001/cb", False),
    ],
    ids=[
        "another registered redirect URI shows the screen",
        "a loopback redirect on another port shows the screen",
        "a loopback redirect without the approved port shows the screen",
        "another loopback host name shows the screen",
        "the very same redirect URI skips the screen",
    ],
)
async def test_a_remembered_approval_holds_only_for_its_exact_redirect_uri(
    approved_at: str, asked_at: str, asks_again: bool
) -> None:
    store = FakeStore()
    await consent.approve(
        store, auth_request(redirect_uri=approved_at), ANN, NOW, Policy(), origin=ORIGIN
    )
    request = auth_request(redirect_uri=asked_at)
    assert await consent.needs_consent(store, request, ANN) is asks_again


async def test_the_grant_records_where_the_answer_went_even_when_the_request_omitted_it() -> None:
    store = FakeStore()
    request = auth_request(requested_redirect_uri="")
    approval = await consent.approve(store, request, ANN, NOW, Policy(), origin=ORIGIN)
    assert store.redirect_uris[approval.grant.id] == "https://client.example/cb"
    assert store.codes[0].redirect_uri == ""  # the token request repeats what was sent
