"""The token endpoint's form rules (RFC 6749 §3.1, §3.2, §2.3) and its grant dispatch."""

from __future__ import annotations

import base64

import pytest

from paced.core import token_endpoint
from paced.core.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidTarget,
    OAuthError,
    UnsupportedGrantType,
)
from paced.core.token_endpoint import FormRequest, parse_form, value
from tests.core.helpers import (
    NOW,
    POLICY,
    REDIRECT,
    VERIFIER,
    Client,
    Person,
    add_code,
    form_request,
)
from tests.fakes import MemoryStore, unit_of_work

FORM = "application/x-www-form-urlencoded"


def basic(client: Client) -> str:
    return "Basic " + base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()


# --- parse_form ---------------------------------------------------------------------


def test_a_form_is_read_with_every_value() -> None:
    params = parse_form(FORM + "; charset=UTF-8", b"grant_type=refresh_token&scope=read+write&x=")
    assert params == {"grant_type": ["refresh_token"], "scope": ["read write"], "x": [""]}
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    assert value(params, "x") is None
    assert value(params, "absent") is None
    assert value(params, "scope") == "read write"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type": "refresh_token"}'),
        (None, b"grant_type=refresh_token"),
        ("multipart/form-data; boundary=x", b"--x--"),
        (FORM, b"grant_type=refresh_token&grant_type=authorization_code"),
        (FORM, b"code=abc&code="),
        (FORM, b"grant_type=\xff"),
        (FORM, b"code=%ff"),
        (FORM, b"a=1&" * 30),
        (FORM, b"code=" + b"x" * token_endpoint.MAX_BODY),
    ],
    ids=[
        "a JSON body",
        "no content type",
        "a multipart body",
        "a repeated parameter",
        "a parameter repeated with an empty value",
        "bytes that are not UTF-8",
        "a percent-escape that is not UTF-8",
        "too many fields",
        "a body too large",
    ],
)
def test_a_body_that_breaks_the_form_rules_is_invalid_request(
    content_type: str | None, body: bytes
) -> None:
    with pytest.raises(InvalidRequest):
        parse_form(content_type, body)


def test_a_repeated_resource_asks_for_several_resources_and_is_invalid_target() -> None:
    # RFC 8707 §2: several resources may be named; this server protects only its API.
    api = b"resource=https%3A%2F%2Fpaced.example%2Fapi%2Fv1"
    with pytest.raises(InvalidTarget):
        parse_form(FORM, b"grant_type=refresh_token&" + api + b"&" + api)


# --- token: dispatch ------------------------------------------------------------------


async def post(memory: MemoryStore, request: FormRequest) -> dict[str, object]:
    async with unit_of_work(memory) as store:
        return (await token_endpoint.token(store, request, NOW, POLICY)).body()


async def test_both_grants_through_the_endpoint(
    memory: MemoryStore, zapier: Client, ann: Person
) -> None:
    code = await add_code(memory, zapier, ann)
    body = await post(
        memory,
        form_request(
            {
                "grant_type": "authorization_code",
                "code": code.code,
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
                **zapier.form(),
            }
        ),
    )
    refreshed = await post(
        memory,
        form_request(
            {"grant_type": "refresh_token", "refresh_token": str(body["refresh_token"])},
            authorization=basic(zapier),
        ),
    )
    assert refreshed["scope"] == "read"
    assert refreshed["refresh_token"] != body["refresh_token"]


@pytest.mark.parametrize(
    ("params", "query", "error"),
    [
        ({}, "", InvalidRequest),
        ({"grant_type": ""}, "", InvalidRequest),
        ({"grant_type": "password", "username": "a", "password": "b"}, "", UnsupportedGrantType),
        ({"grant_type": "client_credentials"}, "", UnsupportedGrantType),
        ({"grant_type": "refresh_token"}, "client_secret=x", InvalidRequest),
        ({"grant_type": "refresh_token"}, "", InvalidRequest),
    ],
    ids=[
        "no grant_type",
        "an empty grant_type",
        "the password grant",
        "the client_credentials grant",
        "credentials in the query string",
        "a refresh without refresh_token",
    ],
)
async def test_requests_the_endpoint_refuses(
    memory: MemoryStore,
    zapier: Client,
    params: dict[str, str],
    query: str,
    error: type[OAuthError],
) -> None:
    with pytest.raises(error):
        await post(memory, form_request({**params, **zapier.form()}, query=query))


async def test_basic_and_a_secret_in_the_body_at_once_is_invalid_request(
    memory: MemoryStore, zapier: Client
) -> None:
    request = form_request(
        {"grant_type": "refresh_token", **zapier.form()}, authorization=basic(zapier)
    )
    with pytest.raises(InvalidRequest):
        await post(memory, request)


async def test_no_client_credentials_at_all_is_invalid_client(memory: MemoryStore) -> None:
    with pytest.raises(InvalidClient):
        await post(memory, form_request({"grant_type": "refresh_token"}))


@pytest.mark.parametrize(
    ("request_", "claimed"),
    [
        (form_request({"client_id": "abc", "client_secret": "s"}), "abc"),
        (form_request({"client_id": "abc"}), "abc"),
        (form_request({}, authorization="Basic " + base64.b64encode(b"a%20b:s").decode()), "a b"),
        (form_request({}), None),
        (form_request({"client_id": "abc"}, query="client_id=abc"), None),
        (FormRequest(content_type="text/plain", body=b"client_id=abc"), None),
    ],
    ids=[
        "in the body with a secret",
        "in the body alone",
        "in HTTP Basic, decoded",
        "none named",
        "a request that breaks the rules names none",
        "a body that is not a form names none",
    ],
)
def test_the_client_a_request_claims_to_be(request_: FormRequest, claimed: str | None) -> None:
    assert token_endpoint.claimed_client_id(request_) == claimed
