"""`paced audit`: the security log as JSON lines, filtered by account, event and time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from paced.core import accounts, personal_tokens, security_log
from paced.core.security_log import COMMAND_LINE, Origin
from paced.storage.database import open_database
from tests.cli.conftest import invoke
from tests.core.test_accounts import CHEAP
from tests.databases import run_sync

WEB = Origin(ip="203.0.113.7", user_agent="Firefox")
T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def logged(database_url: str) -> str:
    """Two accounts made on the command line; Ann's token made and revoked on the web; a
    failed sign-in for an unknown email; an hour apart each."""

    async def make() -> None:
        engine = open_database(database_url)
        try:
            async with engine.unit_of_work() as store:
                ann = await accounts.sign_up(
                    store,
                    await accounts.new_account(accounts.SignUp("ann@example.com", "x" * 10), CHEAP),
                    T0,
                    origin=COMMAND_LINE,
                )
                await accounts.sign_up(
                    store,
                    await accounts.new_account(accounts.SignUp("bob@example.com", "x" * 10), CHEAP),
                    T0 + timedelta(hours=1),
                    origin=COMMAND_LINE,
                )
                issued = await personal_tokens.create(
                    store,
                    ann.id,
                    personal_tokens.NewToken(name="ci"),
                    T0 + timedelta(hours=2),
                    origin=WEB,
                )
                await personal_tokens.revoke(
                    store, issued.token.id, T0 + timedelta(hours=3), owner_id=ann.id, origin=WEB
                )
                await security_log.record(
                    store,
                    "sign_in_failed",
                    T0 + timedelta(hours=4),
                    WEB,
                    user_id=None,
                    detail={"email": "eve@example.com"},
                )
        finally:
            await engine.close()

    run_sync(make())
    return database_url


def audit(database_url: str, *args: str) -> tuple[int, list[dict[str, object]], str]:
    """`paced audit ARGS…` in this process: (exit status, the JSON lines, stderr)."""
    result = invoke(database_url, "audit", *args)
    found = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, found, " ".join(result.stderr.replace("│", " ").split())


def test_every_event_is_one_json_line_oldest_first(logged: str) -> None:
    status, found, errors = audit(logged)
    assert status == 0, errors
    assert [(e["event"], e["email"], e["actor"]) for e in found] == [
        ("account_created", "ann@example.com", "operator"),
        ("account_created", "bob@example.com", "operator"),
        ("personal_token_created", "ann@example.com", found[0]["user_id"]),
        ("personal_token_revoked", "ann@example.com", found[0]["user_id"]),
        ("sign_in_failed", None, "anonymous"),
    ]
    assert list(found[2]) == [
        "id",
        "time",
        "event",
        "user_id",
        "email",
        "actor",
        "ip",
        "user_agent",
        "detail",
    ]
    assert (found[2]["time"], found[2]["ip"], found[2]["user_agent"]) == (
        "2026-01-15T14:00:00Z",
        "203.0.113.7",
        "Firefox",
    )
    assert found[0]["user_agent"] == "paced command line" and found[0]["ip"] == ""
    detail = found[2]["detail"]
    assert isinstance(detail, dict) and detail["name"] == "ci"
    assert found[4]["user_id"] is None and found[4]["detail"] == {"email": "eve@example.com"}


@pytest.mark.parametrize(
    ("args", "events"),
    [
        (("--user", "BOB@example.com"), ["account_created"]),
        (("--event", "account_created"), ["account_created", "account_created"]),
        (("--user", "ann@example.com", "--event", "personal_token_revoked"), ["personal_token_revoked"]),
        (("--since", "2026-01-15T14:00:00Z"), ["personal_token_created", "personal_token_revoked", "sign_in_failed"]),
        (("--since", "2026-01-15T13:00:00+01:00", "--until", "2026-01-15T13:00:00"), ["account_created"]),
        (("--until", "2026-01-15"), []),
        (("--since", "2026-01-16"), []),
    ],
    ids=[
        "one account (its email in any case)",
        "one event",
        "one account's event",
        "from a time on",
        "between two times, a zone or UTC",
        "before a date",
        "from a date",
    ],
)  # fmt: skip
def test_filters(logged: str, args: tuple[str, ...], events: list[str]) -> None:
    status, found, errors = audit(logged, *args)
    assert status == 0, errors
    assert [e["event"] for e in found] == events


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("--user", "nobody@example.com"), 1, "unknown user: nobody@example.com"),
        (("--event", "hacked"), 2, "'hacked' is not an event; the events are: account_created"),
        (("--since", "yesterday"), 2, "'yesterday' is not an ISO 8601 time"),
    ],
    ids=["an unknown user is an error", "an unknown event is wrong usage", "so is a bad time"],
)
def test_mistakes(logged: str, args: tuple[str, ...], status: int, message: str) -> None:
    code, found, errors = audit(logged, *args)
    assert (code, found) == (status, [])
    assert message in errors
