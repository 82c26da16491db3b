"""Prometheus metrics, counted at the web edge (the core knows nothing of them).

`paced serve` exposes them on a listener of their own when PACED_METRICS_PORT is set, in
prometheus-client's multiprocess mode so that every worker's counts add up
(`paced.cli.serve`). Every label takes few values: routes are templates, methods a fixed
set, kinds and reasons the names below; nothing from a request is a label as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, Literal

from prometheus_client import Counter, Histogram, values

from paced.core import bearer
from paced.core.errors import (
    BearerError,
    InsufficientScope,
    InvalidBearerRequest,
    InvalidToken,
    MissingCredentials,
)
from paced.logs import Counted, Entry

# In multiprocess mode, prometheus-client asks the system for the process id on every
# count, to notice a fork (a forked child must write to a file of its own): a system call
# per count, several per request. The id is kept here instead, and taken anew in a forked
# child. Set before any metric has a value: every metric here has labels, and a labelled
# metric makes its values with its children.
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


if values.ValueClass is not values.MutexValue:
    os.register_at_fork(after_in_child=_forked)
    # prometheus-client leaves MultiProcessValue unannotated.
    values.ValueClass = values.MultiProcessValue(lambda: _pid)  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "paced_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "paced_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TOKENS_ISSUED = Counter("paced_tokens_issued", "Secrets issued by this service, by kind.", ["kind"])
TOKENS_REVOKED = Counter(
    "paced_tokens_revoked",
    "Revocations by kind: oauth_grant is one approval with all its tokens (a revoked "
    "refresh token, or an app revoked on the authorized-applications page), oauth_app "
    "an application deleted with everything issued to it.",
    ["kind"],
)
AUTH_FAILURES = Counter(
    "paced_auth_failures",
    "Refused credentials, by kind (bearer, oauth, login, csrf) and reason.",
    ["kind", "reason"],
)
RATE_LIMITED = Counter(
    "paced_rate_limited", "Requests refused with 429 by a rate limit, by route.", ["route"]
)

Issued = Literal[
    "personal_access_token",
    "oauth_access_token",
    "oauth_refresh_token",
    "authorization_code",
    "device_code",
    "client_secret",
]
Revoked = Literal[
    "personal_access_token",
    "oauth_access_token",
    "oauth_grant",
    "oauth_app",
    "client_secret",
]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

_INVALID_TOKEN_REASONS = {
    bearer.MALFORMED: "malformed",
    bearer.UNKNOWN: "unknown",
    bearer.EXPIRED: "expired",
    bearer.REVOKED: "revoked",
}


# What the request being answered counted, as (metric, labels, amount): `Edge` gives each
# request a list of its own when metrics are on, and `paced.web.answered` counts it with
# the request, off the loop (docs/benchmarks.md). With metrics off nothing is counted.
COUNTS: ContextVar[list[Counted] | None] = ContextVar("paced_counts", default=None)


def _count(metric: Counter, labels: tuple[str, ...], amount: int = 1) -> None:
    counts = COUNTS.get()
    if counts is not None:
        counts.append((metric, labels, amount))


def issued(kind: Issued, count: int = 1) -> None:
    _count(TOKENS_ISSUED, (kind,), count)


def revoked(kind: Revoked) -> None:
    _count(TOKENS_REVOKED, (kind,))


def auth_failed(kind: Literal["bearer", "oauth", "login", "csrf"], reason: str) -> None:
    _count(AUTH_FAILURES, (kind, reason))


def bearer_failed(error: BearerError) -> None:
    if isinstance(error, InvalidToken):
        reason = _INVALID_TOKEN_REASONS.get(error.description, "invalid_token")
    elif isinstance(error, MissingCredentials):
        reason = "missing"
    elif isinstance(error, InvalidBearerRequest | InsufficientScope):
        reason = error.error
    else:
        reason = "other"
    auth_failed("bearer", reason)


def rate_limited(route: str) -> None:
    _count(RATE_LIMITED, (route,))


def observe_requests(batch: Sequence[Entry]) -> None:
    """Count a batch of answered requests (`paced.web.answered`), in its thread: what each
    counted, and each one in the request metrics (one increment per method, route and
    status for the batch, one observation of its duration per request)."""
    counted: dict[tuple[Counter, tuple[str, ...]], int] = {}
    answered: dict[tuple[str, str, int], list[float]] = {}
    for _, _, method, route, status, seconds, _, counts in batch:
        key = (method, route, status)
        durations = answered.get(key)
        if durations is None:
            answered[key] = [seconds]
        else:
            durations.append(seconds)
        for metric, labels, amount in counts or ():
            counted[metric, labels] = counted.get((metric, labels), 0) + amount
    for (metric, labels), amount in counted.items():
        _child(metric, labels).inc(amount)
    for key, durations in answered.items():
        requests, latency = _request_children_of(*key)
        requests.inc(len(durations))
        for seconds in durations:
            latency.observe(seconds)


# The labelled children of a metric, found once per labels: `labels()` takes a lock and
# checks its arguments, which costs more than the increment itself. Few keys: every label
# here takes a bounded set of values.
_children: dict[tuple[Counter, tuple[str, ...]], Any] = {}
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _child(metric: Counter, labels: tuple[str, ...]) -> Any:
    key = (metric, labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _request_children_of(method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        shown = method if method in METHODS else "OTHER"
        children = (REQUESTS.labels(shown, route, str(status)), LATENCY.labels(shown, route))
        if method in METHODS:  # unusual methods are many: never keep them as keys
            _request_children[key] = children
    return children
