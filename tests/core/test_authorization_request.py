"""Validating the authorization request (RFC 6749 §4.1.1, §4.1.2.1; RFC 7636; RFC 9207;
RFC 8252 §7.3), in the order that decides between an error page and a redirect."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from paced.core import authorization_request
from paced.core.authorization_request import (
    AuthorizationErrorResponse,
    AuthorizationRequest,
    UntrustedRedirect,
    grouped,
    response_uri,
)
from paced.core.records import App

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ISSUER = "https://auth.example"


def make_app(client_id: str, redirect_uris: tuple[str, ...], *, public: bool = False) -> App:
    return App(
        id=f"app_{client_id}",
        owner_id="user_owner",
        name=client_id.title(),
        description="",
        homepage_url="",
        client_id=client_id,
        redirect_uris=redirect_uris,
        public=public,
        created_at=NOW,
        updated_at=NOW,
    )


WEB = make_app("web", ("https://client.example/cb",))
MULTI = make_app("multi", ("https://client.example/a", "https://client.example/b?x=1"))
NATIVE = make_app("native", ("http://127.0.0.1:8123/cb", "com.example.app:/callback"), public=True)


class Apps:
    def __init__(self, *apps: App) -> None:
        self.apps = {app.client_id: app for app in apps}

    async def app_by_client_id(self, client_id: str) -> App | None:
        return self.apps.get(client_id)


STORE = Apps(WEB, MULTI, NATIVE)

Query = list[tuple[str, str]]


def query(**overrides: str | None) -> Query:
    """A valid request for WEB, with some parameters changed (None removes one)."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "web",
        "redirect_uri": "https://client.example/cb",
        "state": "xyz",
        **overrides,
    }
    return [(name, value) for name, value in params.items() if value is not None]


async def validate(pairs: Query) -> AuthorizationRequest:
    return await authorization_request.validate(STORE, grouped(pairs), issuer=ISSUER)


# --- §4.1.2.1: the client and its redirect URI first, errors shown, never redirected ------


@pytest.mark.parametrize(
    "pairs",
    [
        query(client_id=None),
        query(client_id=""),
        query(client_id="nobody"),
        query(client_id="x" * 500),
        [*query(), ("client_id", "web")],
        [*query(), ("client_id", "multi")],
        query(client_id="multi", redirect_uri=None),
        query(redirect_uri="https://client.example/other"),
        query(redirect_uri="https://client.example/cb/"),
        query(redirect_uri="https://CLIENT.example/cb"),
        query(redirect_uri="https://client.example/cb?extra=1"),
        query(redirect_uri="https://client.example/cb#fragment"),
        query(redirect_uri="https://client.example:8443/cb"),
        query(client_id="multi", redirect_uri="https://client.example/b"),
        [*query(), ("redirect_uri", "https://client.example/cb")],
        [*query(), ("redirect_uri", "https://evil.example/cb")],
        query(client_id="native", redirect_uri="http://localhost:8123/cb"),
        query(client_id="native", redirect_uri="https://127.0.0.1:8123/cb"),
        query(client_id="native", redirect_uri="http://127.0.0.1:9000/other"),
    ],
    ids=[
        "a missing client_id",
        "an empty client_id counts as missing (section 3.1)",
        "an unknown client_id",
        "an absurdly long client_id",
        "a client_id sent twice, even with the same value",
        "two different client_ids",
        "no redirect_uri where the app has several",
        "a redirect_uri that is not registered",
        "a trailing slash is not an exact match",
        "a host in another case is not an exact match",
        "an added query is not an exact match",
        "a fragment is not an exact match",
        "a port on an https URI is not an exact match",
        "a registered URI without its query is not an exact match",
        "a redirect_uri sent twice, even with the same value",
        "a second redirect_uri pointing elsewhere",
        "a loopback redirect may not change its host, only its port",
        "a loopback redirect may not change its scheme",
        "a loopback redirect may not change its path",
    ],
)
async def test_section_4_1_2_1_an_untrusted_client_or_redirect_is_never_redirected_to(
    pairs: Query,
) -> None:
    with pytest.raises(UntrustedRedirect) as caught:
        await validate(pairs)
    assert caught.value.status == 400
    assert caught.value.description


async def test_client_and_redirect_are_checked_before_anything_else() -> None:
    # Every other parameter is wrong too, yet the answer is the page, not a redirect.
    pairs = [("client_id", "nobody"), ("response_type", "token"), ("scope", "admin")]
    with pytest.raises(UntrustedRedirect):
        await validate(pairs)


# --- Then every other error goes back to the client, with state --------------------------


@pytest.mark.parametrize(
    ("pairs", "error"),
    [
        (query(response_type=None), "invalid_request"),
        (query(response_type="token"), "unsupported_response_type"),
        (query(response_type="code id_token"), "unsupported_response_type"),
        ([*query(), ("response_type", "code")], "invalid_request"),
        ([*query(), ("scope", "read"), ("scope", "write")], "invalid_request"),
        (
            [*query(), ("code_challenge", CHALLENGE), ("code_challenge", CHALLENGE)],
            "invalid_request",
        ),
        ([*query(), ("prompt", "consent"), ("prompt", "consent")], "invalid_request"),
        (query(scope="admin"), "invalid_scope"),
        (query(scope="read admin"), "invalid_scope"),
        (query(code_challenge=CHALLENGE), "invalid_request"),
        (query(code_challenge=CHALLENGE, code_challenge_method="plain"), "invalid_request"),
        (query(code_challenge=CHALLENGE, code_challenge_method="s256"), "invalid_request"),
        (query(code_challenge="short", code_challenge_method="S256"), "invalid_request"),
        (query(code_challenge=CHALLENGE + "=", code_challenge_method="S256"), "invalid_request"),
        (query(code_challenge_method="S256"), "invalid_request"),
        (
            query(client_id="native", redirect_uri="http://127.0.0.1:8123/cb"),
            "invalid_request",
        ),
    ],
    ids=[
        "a missing response_type is invalid_request",
        "the implicit grant is unsupported_response_type",
        "a hybrid response type is unsupported_response_type",
        "a repeated response_type is invalid_request",
        "a repeated scope is invalid_request",
        "a repeated code_challenge is invalid_request",
        "a repeated prompt is invalid_request",
        "an unknown scope is invalid_scope",
        "one unknown scope among known ones is invalid_scope",
        "a challenge without its method is invalid_request (plain is not assumed)",
        "the plain method is refused",
        "the method name is case-sensitive",
        "a challenge of the wrong length is invalid_request",
        "a padded challenge is invalid_request",
        "a method without a challenge is invalid_request",
        "a public client without PKCE is invalid_request",
    ],
)
async def test_section_4_1_2_1_other_errors_go_back_to_the_client_with_state(
    pairs: Query, error: str
) -> None:
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate(pairs)
    assert caught.value.error == error
    assert caught.value.state == "xyz"
    assert caught.value.redirect_uri == dict(pairs).get("redirect_uri", WEB.redirect_uris[0])


async def test_a_repeated_state_is_not_echoed_since_neither_value_can_be_trusted() -> None:
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate([*query(), ("state", "other")])
    assert caught.value.error == "invalid_request"
    assert caught.value.state is None


async def test_the_error_redirect_carries_error_description_state_and_iss() -> None:
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate(query(scope="admin", state="a b&c"))
    params = caught.value.response_parameters("https://paced.example")
    assert params == [
        ("error", "invalid_scope"),
        ("error_description", "Unknown scope: admin."),
        ("state", "a b&c"),
        ("iss", "https://paced.example"),
    ]


async def test_without_state_the_error_redirect_has_no_state_but_still_iss() -> None:
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate(query(scope="admin", state=None))
    names = [name for name, _ in caught.value.response_parameters("https://paced.example")]
    assert names == ["error", "error_description", "iss"]


# --- A valid request ----------------------------------------------------------------------


async def test_a_valid_request_of_a_confidential_client_without_pkce() -> None:
    request = await validate(query())
    assert request.app == WEB
    assert request.redirect_uri == "https://client.example/cb"
    assert request.requested_redirect_uri == "https://client.example/cb"
    assert request.scopes == ("read",)
    assert request.state == "xyz"
    assert request.code_challenge is None
    assert not request.force_consent


async def test_a_valid_request_with_s256_pkce() -> None:
    request = await validate(query(code_challenge=CHALLENGE, code_challenge_method="S256"))
    assert request.code_challenge == CHALLENGE


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (None, ("read",)),
        ("", ("read",)),
        ("   ", ("read",)),
        ("write", ("write",)),
        ("write read", ("read", "write")),
        ("read read", ("read",)),
    ],
    ids=[
        "no scope means read (docs/reference.md §4)",
        "an empty scope means read",
        "a blank scope means read",
        "write alone is write alone",
        "scopes come back in canonical order",
        "a scope named twice is granted once",
    ],
)
async def test_section_3_3_scope(scope: str | None, expected: tuple[str, ...]) -> None:
    assert (await validate(query(scope=scope))).scopes == expected


async def test_redirect_uri_may_be_omitted_when_the_app_has_exactly_one() -> None:
    request = await validate(query(redirect_uri=None))
    assert request.redirect_uri == "https://client.example/cb"
    # The token request must then omit it too (RFC 6749 §4.1.3): nothing was sent.
    assert request.requested_redirect_uri == ""


async def test_a_registered_uri_with_a_query_matches_exactly() -> None:
    request = await validate(query(client_id="multi", redirect_uri="https://client.example/b?x=1"))
    assert request.redirect_uri == "https://client.example/b?x=1"


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://127.0.0.1:8123/cb", "http://127.0.0.1:51234/cb", "http://127.0.0.1/cb"],
    ids=[
        "the registered port",
        "another port (RFC 8252 section 7.3)",
        "no port at all",
    ],
)
async def test_rfc_8252_a_loopback_redirect_may_differ_in_port_only(redirect_uri: str) -> None:
    request = await validate(
        query(
            client_id="native",
            redirect_uri=redirect_uri,
            code_challenge=CHALLENGE,
            code_challenge_method="S256",
        )
    )
    # The answer goes to the port the app listens on, the one it asked for.
    assert request.redirect_uri == redirect_uri
    assert request.requested_redirect_uri == redirect_uri


async def test_a_public_client_with_a_private_use_scheme_and_pkce() -> None:
    request = await validate(
        query(
            client_id="native",
            redirect_uri="com.example.app:/callback",
            code_challenge=CHALLENGE,
            code_challenge_method="S256",
        )
    )
    assert request.redirect_uri == "com.example.app:/callback"


async def test_unknown_parameters_are_ignored_even_repeated() -> None:
    request = await validate([*query(), ("utm", "1"), ("utm", "2")])
    assert request.state == "xyz"


@pytest.mark.parametrize(
    ("prompt", "forced"),
    [("consent", True), ("login consent", True), ("login", False), (None, False)],
    ids=[
        "prompt=consent forces the screen",
        "consent among other prompt values forces the screen",
        "another prompt value does not",
        "no prompt does not",
    ],
)
async def test_prompt_consent(prompt: str | None, forced: bool) -> None:
    assert (await validate(query(prompt=prompt))).force_consent is forced


async def test_the_consent_form_carries_each_parameter_once_as_received() -> None:
    request = await validate(
        [*query(scope="write read", prompt="consent"), ("ignored", "x"), ("state", "")]
    )
    assert request.parameters == (
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", "https://client.example/cb"),
        ("scope", "write read"),
        ("state", "xyz"),
        ("prompt", "consent"),
    )


# --- §3.1.2: building the response URI -----------------------------------------------------


@pytest.mark.parametrize(
    ("redirect_uri", "expected"),
    [
        ("https://client.example/cb", "https://client.example/cb?code=a%2Fb&state=x+y"),
        (
            "https://client.example/cb?tenant=7&x=%20",
            "https://client.example/cb?tenant=7&x=%20&code=a%2Fb&state=x+y",
        ),
        ("http://127.0.0.1:51234", "http://127.0.0.1:51234?code=a%2Fb&state=x+y"),
        ("com.example.app:/callback", "com.example.app:/callback?code=a%2Fb&state=x+y"),
    ],
    ids=[
        "parameters go in the query, encoded",
        "the registered query is kept as it is (section 3.1.2)",
        "a URI without a path",
        "a private-use scheme",
    ],
)
def test_section_3_1_2_response_uri(redirect_uri: str, expected: str) -> None:
    assert response_uri(redirect_uri, [("code", "a/b"), ("state", "x y")]) == expected


def test_response_uri_values_decode_to_what_was_sent() -> None:
    state = "päyload&code=forged#x"
    uri = response_uri("https://client.example/cb", [("code", "c"), ("state", state)])
    assert parse_qsl(urlsplit(uri).query) == [("code", "c"), ("state", state)]
    assert urlsplit(uri).fragment == ""


# --- RFC 8707: resource indicators -------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, None),
        ("https://auth.example/api/v1", "https://auth.example/api/v1"),
        ("https://auth.example/api/v1/", "https://auth.example/api/v1"),
    ],
    ids=["no resource binds nothing", "the API binds to it", "a trailing slash is tolerated"],
)
async def test_the_api_is_the_one_resource_a_request_may_name(
    sent: str | None, kept: str | None
) -> None:
    request = await validate(query(resource=sent))
    assert request.resource == kept
    assert ("resource", sent) in request.parameters or sent is None


@pytest.mark.parametrize(
    "resource",
    [
        "https://evil.example/api/v1",
        "https://auth.example/",
        "https://auth.example/api/v2",
        "https://auth.example/api/v1#x",
        "http://auth.example/api/v1",
    ],
    ids=["another host", "the server itself", "another path", "a fragment", "another scheme"],
)
async def test_any_other_resource_goes_back_to_the_client_as_invalid_target(
    resource: str,
) -> None:
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate(query(resource=resource))
    assert caught.value.error == "invalid_target"
    assert caught.value.redirect_uri == "https://client.example/cb"
    assert caught.value.state == "xyz"


@pytest.mark.parametrize(
    "second",
    ["https://evil.example/api/v1", "https://auth.example/api/v1"],
    ids=["the API and another resource", "the API twice"],
)
async def test_more_than_one_resource_goes_back_to_the_client_as_invalid_target(
    second: str,
) -> None:
    """RFC 8707 §2 lets a request name several resources; this server protects one."""
    pairs = [*query(resource="https://auth.example/api/v1"), ("resource", second)]
    with pytest.raises(AuthorizationErrorResponse) as caught:
        await validate(pairs)
    assert caught.value.error == "invalid_target"
    assert caught.value.redirect_uri == "https://client.example/cb"
