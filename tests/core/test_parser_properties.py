"""Properties of the core's parsers, with Hypothesis: whatever a client sends, each one
answers or raises one of its documented `PacedError`s, and each round-trips what it makes.

Every description a client may see stays within RFC 6749 §5.2's character set, so that it
can go into a JSON body, a redirect's query or a `WWW-Authenticate` header unchanged.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from paced.core import pkce, redirect_uris, scopes, token_format
from paced.core.authorization_request import (
    PARAMETERS,
    AuthorizationErrorResponse,
    AuthorizationRequest,
    UntrustedRedirect,
    response_uri,
    validate,
)
from paced.core.bearer import parse_authorization
from paced.core.client_auth import FAILED, ClientCredentials, authenticate, read_credentials
from paced.core.errors import (
    InvalidBearerRequest,
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    MissingCredentials,
    PacedError,
)
from paced.core.ids import BASE62, digest
from paced.core.policy import Policy
from paced.core.records import App, Client, SecretDigest
from paced.core.token_endpoint import PARAMETERS as FORM_PARAMETERS
from paced.core.token_endpoint import parse_form

T = TypeVar("T")
# Deterministic in CI; to explore, raise max_examples and drop derandomize.
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)
PREFIXES: tuple[token_format.Prefix, ...] = ("pt_secret_", "pt_oauth_", "pt_refresh_", "pt_client_")
# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

# Text as HTTP brings it: anything Unicode (query strings and forms are UTF-8), and header
# values, which Starlette decodes as latin-1.
anything = st.text(max_size=300)
header_value = st.text(st.characters(max_codepoint=255), max_size=300)
names = st.sampled_from([*PARAMETERS, "client_secret", "code", "grant_type", "x"]) | anything
params = st.dictionaries(names, st.lists(anything, max_size=3), max_size=8)


def complete(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine whose awaits never wait (the fake stores answer at once)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    raise AssertionError("the coroutine waited for something")


def assert_client_safe(error: PacedError) -> None:
    assert DESCRIPTION.fullmatch(error.description), error.description
    assert len(error.description) <= 300


# --- token format (docs/reference.md §3) -----------------------------------------------------------


@FUZZ
@given(prefix=st.sampled_from(PREFIXES))
def test_every_generated_token_is_well_formed_for_its_prefix_only(
    prefix: token_format.Prefix,
) -> None:
    token = token_format.generate(prefix)
    assert [p for p in PREFIXES if token_format.is_well_formed(token, p)] == [prefix]


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), position=st.integers(0, 35), other=st.sampled_from(BASE62))
def test_changing_any_one_character_of_a_token_breaks_it(
    prefix: token_format.Prefix, position: int, other: str
) -> None:
    token = token_format.generate(prefix)
    at = len(prefix) + position
    changed = token[:at] + other + token[at + 1 :]
    assert token_format.is_well_formed(changed, prefix) is (changed == token)


@FUZZ
@given(text=anything, prefix=st.sampled_from(PREFIXES))
@example(text="pt_secret_" + "0" * 36, prefix="pt_secret_")
def test_any_text_is_simply_well_formed_or_not(text: str, prefix: token_format.Prefix) -> None:
    assert token_format.is_well_formed(text, prefix) in (True, False)
    assert token_format.is_well_formed(prefix + text, prefix) in (True, False)


# --- client credentials (RFC 6749 §2.3) -------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


@FUZZ
@given(client_id=st.text(min_size=1, max_size=200), secret=st.text(max_size=200))
def test_basic_credentials_round_trip(client_id: str, secret: str) -> None:
    read = read_credentials(basic(client_id, secret), {}, {})
    if secret:
        assert read == ClientCredentials(client_id, secret, "client_secret_basic")
    else:
        assert read == ClientCredentials(client_id, None, "none")


@FUZZ
@given(client_id=st.text(min_size=1, max_size=200), secret=st.text(min_size=1, max_size=200))
def test_body_credentials_round_trip(client_id: str, secret: str) -> None:
    body = {"client_id": [client_id], "client_secret": [secret]}
    assert read_credentials(None, body, {}) == ClientCredentials(
        client_id, secret, "client_secret_post"
    )


@FUZZ
@given(
    authorization=st.none() | header_value | st.builds(lambda s: "Basic " + s, header_value),
    body=params,
    query=params,
)
@example(authorization="Basic " + base64.b64encode(b"\xff:x").decode(), body={}, query={})
@example(authorization="Basic " + base64.b64encode(b"%ff:x").decode(), body={}, query={})
@example(authorization="Basic " + base64.b64encode(b"a:%ff").decode(), body={}, query={})
@example(authorization="Basic Zm9v", body={}, query={})
@example(authorization="Basic ééé", body={}, query={})
def test_reading_credentials_answers_or_refuses_as_documented(
    authorization: str | None,
    body: dict[str, list[str]],
    query: dict[str, list[str]],
) -> None:
    try:
        read = read_credentials(authorization, body, query)
    except (InvalidClient, InvalidRequest) as error:
        assert_client_safe(error)
    else:
        assert read.client_id
        assert (read.secret is None) is (read.method == "none")


SECRET = token_format.generate("pt_client_")


class Clients:
    """The apps of APPS below, "web" with the secret SECRET."""

    async def client_by_id(self, client_id: str) -> Client | None:
        app = APPS.get(client_id)
        if app is None:
            return None
        secrets = (SecretDigest("cs_1", digest(SECRET), None),) if app.id == "app_web" else ()
        return Client(app, secrets)

    async def touch_client_secret(
        self, secret_id: str, now: datetime, *, unused_since: datetime
    ) -> None:
        return None


@FUZZ
@given(
    client_id=st.sampled_from(["web", "native", "multi"]) | anything,
    secret=st.none() | st.just(SECRET) | anything,
    allow_public=st.booleans(),
)
def test_client_authentication_proves_the_client_or_is_invalid_client(
    client_id: str, secret: str | None, allow_public: bool
) -> None:
    credentials = ClientCredentials(
        client_id, secret, "none" if secret is None else "client_secret_post"
    )
    try:
        app = complete(
            authenticate(Clients(), credentials, NOW, Policy(), allow_public=allow_public)
        )
    except InvalidClient as error:
        assert error.description == FAILED
    else:
        assert app.client_id == client_id
        assert (app.public and secret is None) or (client_id == "web" and secret == SECRET)


# --- redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7.3) ---------------------------------------

hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){1,3}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~!$&'()+,;=:@%-]{0,20}){0,4}", fullmatch=True)
queries = st.none() | st.from_regex(r"[A-Za-z0-9._~=&-]{0,30}", fullmatch=True)
ports = st.integers(1, 65535)


def uri(scheme: str, host: str, port: int | None, path: str, query: str | None) -> str:
    return f"{scheme}://{host}{'' if port is None else f':{port}'}{path}" + (
        "" if query is None else f"?{query}"
    )


@FUZZ
@given(host=hosts, port=st.none() | ports, path=paths, query=queries, public=st.booleans())
def test_https_uris_register_and_match_only_themselves(
    host: str, port: int | None, path: str, query: str | None, public: bool
) -> None:
    registered = uri("https", host, port, path, query)
    assert redirect_uris.problem(registered, public=public) is None
    assert redirect_uris.matches([registered], registered)
    other_port = uri("https", host, (port or 443) % 65535 + 1, path, query)
    assert not redirect_uris.matches([registered], other_port)
    assert not redirect_uris.matches([registered], registered + "x")


@FUZZ
@given(
    host=st.sampled_from(sorted(redirect_uris.LOOPBACK_HOSTS)),
    port=st.none() | ports,
    other=st.none() | ports,
    path=paths,
    query=queries,
)
def test_loopback_uris_match_on_any_port(
    host: str, port: int | None, other: int | None, path: str, query: str | None
) -> None:
    registered = uri("http", host, port, path, query)
    assert redirect_uris.problem(registered, public=True) is None
    assert redirect_uris.matches([registered], uri("http", host, other, path, query))
    assert not redirect_uris.matches([registered], uri("https", host, other, path, query))


@FUZZ
@given(text=anything, public=st.booleans())
@example(text="http://[::1", public=False)
@example(text="https://example.com:99999/cb", public=False)
@example(text="https://exa mple.com/cb", public=False)
@example(text="com.example.app:", public=True)
def test_any_text_is_registrable_or_gets_a_message(text: str, public: bool) -> None:
    message = redirect_uris.problem(text, public=public)
    assert message is None or message
    for found in redirect_uris.problems(text, public=public):
        assert str(found)


@FUZZ
@given(registered=st.lists(anything, max_size=3), requested=anything)
@example(registered=["http://127.0.0.1:1/cb"], requested="http://127.0.0.1:/cb")
@example(registered=["http://localhost/cb"], requested="http://localhost:99999999/cb")
def test_matching_never_fails(registered: list[str], requested: str) -> None:
    assert redirect_uris.matches(registered, requested) in (True, False)


# --- scopes (docs/reference.md §4, RFC 6749 §3.3) ----------------------------------------------------


@FUZZ
@given(chosen=st.lists(st.sampled_from(scopes.ALL)), spaces=st.sampled_from([" ", "  ", "\t"]))
def test_scopes_round_trip_in_canonical_order(chosen: list[str], spaces: str) -> None:
    parsed = scopes.parse(spaces.join(chosen))
    assert parsed == (tuple(s for s in scopes.ALL if s in chosen) or scopes.DEFAULT)
    assert scopes.parse(scopes.render(parsed)) == parsed


@FUZZ
@given(text=st.none() | anything)
@example(text='read "quoted" \\ é')
@example(text="x" * 5000)
def test_any_scope_text_parses_or_is_invalid_scope(text: str | None) -> None:
    try:
        parsed = scopes.parse(text)
    except InvalidScope as error:
        assert_client_safe(error)
    else:
        assert parsed and set(parsed) <= set(scopes.ALL)


# --- PKCE (RFC 7636) --------------------------------------------------------------------

verifiers = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
    min_size=43,
    max_size=128,
)


@FUZZ
@given(verifier=verifiers, other=verifiers)
def test_a_verifier_answers_its_own_challenge_only(verifier: str, other: str) -> None:
    assert pkce.is_valid_verifier(verifier)
    challenge = pkce.challenge_of(verifier)
    assert pkce.is_valid_challenge(challenge)
    assert pkce.verify(verifier, challenge)
    assert pkce.verify(other, challenge) is (other == verifier)


@FUZZ
@given(verifier=anything, challenge=anything)
@example(verifier="é" * 43, challenge="A" * 43)
def test_any_verifier_and_challenge_are_compared_without_failing(
    verifier: str, challenge: str
) -> None:
    assert pkce.verify(verifier, challenge) in (True, False)


# --- the Bearer header (RFC 6750 §2.1) ----------------------------------------------------

b64tokens = st.from_regex(r"[A-Za-z0-9\-._~+/]+=*", fullmatch=True)


@FUZZ
@given(
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]),
    token=b64tokens,
    padding=st.sampled_from(["", " ", "\t", "  "]),
)
def test_a_bearer_header_gives_back_its_token(scheme: str, token: str, padding: str) -> None:
    assert parse_authorization([f"{padding}{scheme} {token}{padding}"]) == token


@FUZZ
@given(values=st.lists(header_value, max_size=3))
@example(values=["Bearer\x00"])
@example(values=["Bearer  a"])
def test_any_authorization_header_gives_a_token_or_a_bearer_error(values: list[str]) -> None:
    try:
        token = parse_authorization(values)
    except (MissingCredentials, InvalidBearerRequest) as error:
        assert_client_safe(error)
    else:
        assert token and " " not in token and "\t" not in token


# --- the authorization request (RFC 6749 §4.1.1) ------------------------------------------


def make_app(client_id: str, uris: tuple[str, ...], *, public: bool) -> App:
    return App(
        id=f"app_{client_id}",
        owner_id="user_owner",
        name="App",
        description="",
        homepage_url="",
        client_id=client_id,
        redirect_uris=uris,
        public=public,
        created_at=NOW,
        updated_at=NOW,
    )


APPS = {
    app.client_id: app
    for app in (
        make_app("web", ("https://client.example/cb",), public=False),
        make_app(
            "multi", ("https://client.example/a", "https://client.example/b?x=1"), public=False
        ),
        make_app("native", ("http://127.0.0.1:8123/cb", "com.example.app:/callback"), public=True),
    )
}


class Apps:
    async def app_by_client_id(self, client_id: str) -> App | None:
        return APPS.get(client_id)


def authorization_values(name: str) -> st.SearchStrategy[str]:
    """Mostly plausible values for each parameter, with anything mixed in."""
    plausible: dict[str, st.SearchStrategy[str]] = {
        "client_id": st.sampled_from(sorted(APPS)),
        "redirect_uri": st.sampled_from(
            [u for app in APPS.values() for u in app.redirect_uris]
            + ["http://127.0.0.1:1/cb", "https://evil.example/cb"]
        ),
        "response_type": st.sampled_from(["code", "token", "code token"]),
        "scope": st.sampled_from(["read", "write read", "admin", "read\x00"]),
        "code_challenge": st.sampled_from([pkce.challenge_of("v" * 43), "short"]),
        "code_challenge_method": st.sampled_from(["S256", "plain", "s256"]),
        "prompt": st.sampled_from(["consent", "none"]),
    }
    return plausible.get(name, anything) | anything | st.just("")


authorization_params = st.dictionaries(
    st.sampled_from([*PARAMETERS, "nonce"]),
    st.sampled_from(PARAMETERS).flatmap(lambda n: st.lists(authorization_values(n), max_size=2)),
    max_size=len(PARAMETERS) + 1,
)


@FUZZ
@given(params=authorization_params)
@example(params={"client_id": ["web"], "response_type": ["code"], "scope": ['"\\é']})
@example(params={"client_id": ["web"], "response_type": ["code"], "state": ["s" * 5000]})
def test_an_authorization_request_is_valid_or_refused_as_documented(
    params: dict[str, list[str]],
) -> None:
    try:
        valid = complete(validate(Apps(), params, issuer="https://auth.example"))
    except AuthorizationErrorResponse as error:
        # Sent back to the client: only ever to one of its registered redirect URIs.
        app = APPS[next(v for v in params["client_id"] if v)]
        assert redirect_uris.matches(app.redirect_uris, error.redirect_uri)
        assert_client_safe(error)
        assert response_uri(error.redirect_uri, error.response_parameters("https://iss"))
    except UntrustedRedirect as error:
        assert_client_safe(error)
    else:
        assert isinstance(valid, AuthorizationRequest)
        assert redirect_uris.matches(valid.app.redirect_uris, valid.redirect_uri)
        assert set(valid.scopes) <= set(scopes.ALL)
        assert response_uri(valid.redirect_uri, [("code", "c"), ("state", valid.state or "")])


@FUZZ
@given(params=st.dictionaries(names, st.lists(anything, max_size=3), max_size=8))
def test_any_authorization_parameters_are_answered_as_documented(
    params: dict[str, list[str]],
) -> None:
    try:
        complete(validate(Apps(), params, issuer="https://auth.example"))
    except (AuthorizationErrorResponse, UntrustedRedirect) as error:
        assert_client_safe(error)


# --- the token endpoint's form (RFC 6749 §3.2) --------------------------------------------


@FUZZ
@given(
    content_type=st.none()
    | st.sampled_from(
        ["application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8"]
    )
    | header_value,
    body=st.binary(max_size=500)
    | st.builds(
        lambda pairs: urlencode(pairs).encode(),
        st.lists(st.tuples(names, anything), max_size=25),
    ),
)
@example(content_type="application/x-www-form-urlencoded", body=b"%ff=1")
@example(content_type="application/x-www-form-urlencoded", body=b"\xff")
@example(content_type="application/x-www-form-urlencoded", body=b"%22%5C%C3%A9=1&%22%5C%C3%A9=2")
@example(content_type="application/x-www-form-urlencoded", body=b"code=" + b"c" * 5000)
def test_any_token_request_body_is_a_form_or_invalid_request(
    content_type: str | None, body: bytes
) -> None:
    try:
        form = parse_form(content_type, body)
    except InvalidRequest as error:
        assert_client_safe(error)
    else:
        assert all(len(form[name]) == 1 for name in FORM_PARAMETERS.intersection(form))


# --- what the fuzzers found, kept as plain cases -------------------------------------------


def test_an_unknown_scope_is_quoted_with_rfc_6749_characters_only_and_briefly() -> None:
    with pytest.raises(InvalidScope) as raised:
        scopes.parse('read "admin" \\ é' + "x" * 100 + " b c")
    assert raised.value.description == "Unknown scope: ?admin?, ?, b, ...."
    with pytest.raises(InvalidScope) as raised:
        scopes.parse("é" + "x" * 100)
    assert raised.value.description == "Unknown scope: ?" + "x" * 36 + "...."


def test_a_repeated_unknown_parameter_is_ignored_by_the_token_endpoints() -> None:
    # RFC 6749 §3.2: unrecognised parameters are ignored; only known ones must be single.
    form = parse_form("application/x-www-form-urlencoded", b"x=1&x=2&grant_type=refresh_token")
    assert form["grant_type"] == ["refresh_token"]


def test_a_long_known_parameter_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match=r"^The code parameter is too long\.$"):
        parse_form("application/x-www-form-urlencoded", b"code=" + b"c" * 2049)
