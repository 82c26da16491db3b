"""Schemathesis against a real `paced serve`: every operation of `/openapi.json`, with
requests generated from the document and mutated out of it. No answer is a 5xx, and every
answer conforms to the document (status, content type, headers, body schema); a request
that breaks the document is refused.

Half of the well-formed requests carry real credentials (a personal access token, a
client's id and secret, a live code or refresh token), so that the fuzzing reaches past
authentication into the grants. Rate limits are off: they would answer most of it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from paced.storage.database import open_database
from tests.databases import run_sync
from tests.e2e.server import paced_serve
from tests.oauth_helpers import REDIRECT, VERIFIER, Person, add_client, add_code, exchange_code
from tests.token_rows import add_personal_token, add_user

pytestmark = pytest.mark.e2e

RATE_LIMITS_OFF = {
    f"PACED_RATE_LIMIT_{name}": "off"
    for name in (
        "LOGIN_PER_ACCOUNT",
        "LOGIN_PER_IP",
        "SIGNUP_PER_IP",
        "CLIENT_AUTH_PER_CLIENT",
        "CLIENT_AUTH_PER_IP",
        "TOKEN_PER_CLIENT",
        "TOKEN_PER_IP",
        "BEARER_FAILURES_PER_IP",
        "CREDENTIAL_REPORTS_PER_IP",
    )
}
CODES = 40
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # A well-formed request may still be refused with 400: RFC 6749 §5.2 answers a
            # wrong code with invalid_grant, and RFC 6750 §3.1 answers `Bearer a b` (which
            # no security scheme can exclude) with invalid_request.
            "positive_data_acceptance": {"enabled": False},
            # A malformed request may also be refused for its size (paced.web.limits); the
            # authorization endpoint's POST sends a signed-out browser to sign in (303)
            # before it reads the form.
            "negative_data_rejection": {
                "expected-statuses": [
                    "303",
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "413",
                    "415",
                    "429",
                ]
            },
        }
    }
)
# Requests per run, over every operation and both modes: a few seconds against SQLite.
EXAMPLES = 600


@dataclass
class World:
    """Real credentials to put into generated requests."""

    base: str
    client_id: str
    secret: str
    public_client_id: str
    personal_token: str
    access_token: str
    refresh_token: str
    codes: list[str] = field(default_factory=list)

    def tokens(self) -> list[str]:
        return [self.access_token, self.refresh_token, self.personal_token]


async def build_world(database_url: str, base: str) -> World:
    engine = open_database(database_url)
    now = datetime.now(UTC)
    try:
        user = await add_user(engine, now)
        ann = Person(user.id, user.email)
        confidential = await add_client(engine, ann)
        public = await add_client(engine, ann, public=True, name="Native")
        personal = await add_personal_token(engine, user, now)
        first = await add_code(engine, confidential, ann, scopes="read write", when=now)
        issued = await exchange_code(engine, confidential, first, when=now)
        codes = [await add_code(engine, confidential, ann, when=now) for _ in range(CODES)]  # type: ignore[arg-type]
    finally:
        await engine.close()
    assert confidential.secret is not None
    return World(
        base=base,
        client_id=confidential.client_id,
        secret=confidential.secret,
        public_client_id=public.client_id,
        personal_token=personal.secret,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        codes=[code.code for code in codes],
    )


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with paced_serve(database_url, tmp_path, env=RATE_LIMITS_OFF) as base:
        built: list[World] = []

        async def build() -> None:
            built.append(await build_world(database_url, base))

        run_sync(build())
        yield built[0]


def add_credentials(case: Any, world: World, how: str, pick: random.Random) -> None:
    """Real credentials in a well-formed request (a mutated one stays as generated, so
    that it is still refused for what was mutated)."""
    if how == "as generated" or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    if case.path == "/api/v1/me":
        token = pick.choice([world.personal_token, world.access_token])
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        return
    if not isinstance(case.body, dict):
        return
    case.body.update(client_id=world.client_id, client_secret=world.secret)
    if how != "with a grant":
        return
    if case.path == "/oauth/token" and case.body.get("grant_type") == "authorization_code":
        if world.codes:
            case.body.update(code=world.codes.pop(), redirect_uri=REDIRECT)
            case.body.update(code_verifier=VERIFIER)
    elif case.path == "/oauth/token":
        case.body["refresh_token"] = world.refresh_token
    else:
        case.body["token"] = pick.choice(world.tokens())


def test_no_request_gets_a_server_error_and_every_answer_conforms(world: World) -> None:
    schema = schemathesis.openapi.from_url(f"{world.base}/openapi.json", config=CONFIG)
    cases = schema.as_strategy(GenerationMode.POSITIVE) | schema.as_strategy(
        GenerationMode.NEGATIVE
    )
    pick = random.Random(7)

    @given(case=cases, how=st.sampled_from(["as generated", "with a client", "with a grant"]))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any, how: str) -> None:
        add_credentials(case, world, how, pick)
        response = case.call_and_validate(timeout=10)
        assert response.status_code < 500, response.text
        if response.status_code == 200 and case.path == "/oauth/token":
            world.refresh_token = response.json()["refresh_token"]

    fuzz()
