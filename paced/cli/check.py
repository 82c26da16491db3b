"""`paced check`: is this configuration ready for production? One line per check, `ok` or
`FAIL` with what to change; exit status 1 when one fails. It reads the database (never
creates or migrates it) and reaches Redis, as a serving node would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError

from paced.cli.common import first_problem, missing_database
from paced.settings import Settings
from paced.storage.migrate import revisions

RATE_LIMITS = (
    "rate_limit_login_per_account",
    "rate_limit_login_per_ip",
    "rate_limit_signup_per_ip",
    "rate_limit_client_auth_per_client",
    "rate_limit_client_auth_per_ip",
    "rate_limit_token_per_client",
    "rate_limit_token_per_ip",
)
HASHING = ("password_time_cost", "password_memory_kib", "password_parallelism")


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    ok: bool
    message: str


def base_url(settings: Settings) -> Outcome:
    url = settings.base_url
    if not url:
        return Outcome(
            "base URL",
            False,
            "PACED_BASE_URL is not set, so the issuer would be http://127.0.0.1:PORT;"
            " set it to the public https origin",
        )
    if urlsplit(url).scheme != "https":
        return Outcome(
            "base URL",
            False,
            f"{url} is not https: tokens, codes and cookies would cross the network in"
            " clear; set PACED_BASE_URL to the https origin",
        )
    return Outcome("base URL", True, url)


def secret_key(settings: Settings, nodes: int) -> Outcome:
    # A short key never gets here: Settings refuses it (the `configuration` check).
    if settings.secret_key:
        return Outcome("secret key", True, "PACED_SECRET_KEY is set")
    path = settings.sqlite_path
    if path is not None and nodes == 1:
        return Outcome(
            "secret key",
            True,
            f"generated once and kept in {path.name}.secret-key beside the database:"
            " back it up with it",
        )
    return Outcome(
        "secret key",
        False,
        "PACED_SECRET_KEY is not set: set it, the same on every node, to at least 32 random bytes",
    )


def database_shape(settings: Settings, workers: int, nodes: int) -> Outcome:
    if not settings.is_sqlite:
        return Outcome("database", True, "PostgreSQL")
    if nodes > 1:
        return Outcome(
            "database",
            False,
            f"SQLite with {nodes} nodes: a database file cannot be shared between machines;"
            " use PostgreSQL",
        )
    if workers > 1:
        return Outcome(
            "database",
            False,
            f"SQLite with {workers} workers: their writes queue on one file lock;"
            " use PostgreSQL, or one worker",
        )
    return Outcome("database", True, "SQLite, one process")


def rate_limits(settings: Settings, workers: int, nodes: int) -> Outcome:
    on = [name for name in RATE_LIMITS if getattr(settings, name) != "off"]
    processes = workers * nodes
    if settings.redis_url:
        return Outcome("rate limits", True, "counted in Redis, shared by every process")
    if not on:
        return Outcome("rate limits", True, "off")
    if processes > 1:
        return Outcome(
            "rate limits",
            False,
            f"counted in each process's memory: {processes} processes let up to {processes}"
            " times each limit through; set PACED_REDIS_URL",
        )
    return Outcome("rate limits", True, "counted in memory, one process")


def password_hashing(settings: Settings) -> Outcome:
    weaker = [
        f"PACED_{name.upper()}={getattr(settings, name)}"
        for name in HASHING
        if getattr(settings, name) < Settings.model_fields[name].default
    ]
    if weaker:
        return Outcome(
            "password hashing",
            False,
            f"cheaper than the default: {', '.join(weaker)}; unset them",
        )
    return Outcome("password hashing", True, "argon2id at the default cost or above")


async def database_state(settings: Settings) -> Outcome:
    if problem := missing_database(settings):
        return Outcome("schema", False, problem)
    try:
        current, head = await revisions(settings.database_url, db_timeout=settings.db_timeout)
    except OSError as error:
        return Outcome("schema", False, f"cannot reach the database: {error}")
    if current != head:
        return Outcome(
            "schema",
            False,
            f"at revision {current or 'none'}, this version needs {head}: run `paced db upgrade`",
        )
    return Outcome("schema", True, f"up to date ({head})")


async def redis_state(settings: Settings) -> Outcome | None:
    if not settings.redis_url:
        return None
    import redis.asyncio

    client = redis.asyncio.from_url(settings.redis_url, socket_connect_timeout=5)
    host = urlsplit(settings.redis_url).hostname
    try:
        await client.ping()
    except (OSError, redis.RedisError) as error:
        return Outcome("redis", False, f"cannot reach Redis at {host}: {error}")
    finally:
        await client.aclose()
    return Outcome("redis", True, f"reachable at {host}")


async def outcomes(settings: Settings, workers: int, nodes: int) -> list[Outcome]:
    found = [
        Outcome("configuration", True, "valid"),
        base_url(settings),
        secret_key(settings, nodes),
        database_shape(settings, workers, nodes),
        await database_state(settings),
        rate_limits(settings, workers, nodes),
        password_hashing(settings),
    ]
    if redis := await redis_state(settings):
        found.append(redis)
    return found


def check(
    workers: int = typer.Option(
        1,
        "--workers",
        metavar="N",
        min=1,
        help="Worker processes per node (`paced serve --workers`).",
    ),
    nodes: int = typer.Option(
        1, "--nodes", metavar="N", min=1, help="Machines that serve this database together."
    ),
) -> None:
    """Check that this configuration is ready for production.

    Reads the same environment as `paced serve` and prints one line per check, ok or
    FAIL with what to change; exits with status 1 when one fails. Never creates or
    changes the database.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        found = [Outcome("configuration", False, first_problem(error))]
    else:
        found = asyncio.run(outcomes(settings, workers, nodes))
    width = max(len(o.name) for o in found)
    for outcome in found:
        typer.echo(
            f"{'ok' if outcome.ok else 'FAIL':4}  {outcome.name.ljust(width)}  {outcome.message}"
        )
    if not all(o.ok for o in found):
        raise typer.Exit(1)
