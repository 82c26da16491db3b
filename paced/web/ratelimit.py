"""Rate limits (SPEC §6): HTTP policy, kept at the edge with the `limits` library.

    sign-in         failures per account and per IP address; checked before the password
    sign-up         accounts made (or emails found taken) per IP address
    client auth     failures per client id and per IP, at /oauth/token, /revoke, /introspect
    token endpoint  requests per client id and per IP; a failed request counts more
    Bearer          invalid tokens per IP, in this process's memory only

Counters use moving windows: "10 in 10 minutes" means exactly that, at any moment. They
live in memory, or in Redis when PACED_REDIS_URL is set, so that every node shares them.
What counts is a failure where SPEC §6 says failed, and a refused attempt is not itself
counted: the limit lifts when the window has room again, so that a person is never locked
out for good by someone else's guessing. If Redis cannot be reached, requests pass
unlimited (and a warning is logged): an outage of the counters is not an outage of
sign-in.

A limited request raises `RateLimited`; `paced.web.errors` answers 429 with `Retry-After`
in the endpoint's shape, and the sign-in and sign-up forms show it on the form.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import limits
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from paced.core.errors import InvalidClient, OAuthError, RateLimited
from paced.settings import Settings

log = logging.getLogger("paced.ratelimit")

# Redis answers in well under a millisecond; one that does not is treated as down.
REDIS_TIMEOUT = 1.0
# A Redis outage is logged at most this often, not once per request.
WARN_EVERY = 60.0
# Beyond this many blocked addresses, the Bearer gate forgets the expired ones.
MAX_BLOCKED = 10_000


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit: a name for its keys and logs, and its `limits` item (None: off)."""

    name: str
    item: RateLimitItem | None

    @classmethod
    def parse(cls, name: str, setting: str) -> Rule:
        return cls(name, None if setting == "off" else limits.parse(setting))


def _retry_after(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _account_key(email: str) -> str:
    # Emails stay out of the counters' store; equal case-insensitively, like accounts.
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]


class Counters:
    """Moving-window counters over one `limits` storage; failing open on storage errors."""

    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._warned_at = 0.0

    def _storage_down(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("rate limits are not enforced: their store failed (%s)", error)

    async def retry_after(self, rules: list[tuple[Rule, str]], cost: int = 1) -> int | None:
        """Seconds until every one of these (rule, key) pairs has room for `cost`, or None
        when they all have room now. Counts nothing."""
        wait = 0
        try:
            for rule, key in rules:
                if rule.item is None or await self._limiter.test(
                    rule.item, rule.name, key, cost=cost
                ):
                    continue
                stats = await self._limiter.get_window_stats(rule.item, rule.name, key)
                wait = max(wait, _retry_after(stats.reset_time))
        except StorageError as error:
            self._storage_down(error)
            return None
        return wait or None

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> int | None:
        """Count `cost` against the rule; None when it fit, else the seconds until it will.
        A cost larger than the room left fills the window."""
        if rule.item is None:
            return None
        try:
            if await self._limiter.hit(rule.item, rule.name, key, cost=cost):
                return None
            stats = await self._limiter.get_window_stats(rule.item, rule.name, key)
            if 0 < stats.remaining < cost:
                await self._limiter.hit(rule.item, rule.name, key, cost=stats.remaining)
        except StorageError as error:
            self._storage_down(error)
            return None
        return _retry_after(stats.reset_time)


class FailureGate:
    """Failures per key, in this process's memory: the Bearer check's limit.

    A key over its limit is written down with the time it may try again, so that checking
    a request is one lookup in a dict that is normally empty: a valid token pays nothing
    for the limit, and neither Redis nor the database sees a refused request.
    """

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._counters = Counters(MemoryStorage())
        self._blocked: dict[str, float] = {}

    @property
    def counting(self) -> bool:
        """Whether failures are counted at all (the limit is not "off")."""
        return self._rule.item is not None

    @property
    def blocking(self) -> bool:
        """Whether any key is refused at the moment (or was, until its next check)."""
        return bool(self._blocked)

    def check(self, key: str) -> None:
        until = self._blocked.get(key)
        if until is None:
            return
        if until > time.time():
            wait = _retry_after(until)
            raise RateLimited(
                f"Too many invalid tokens. Try again in {_in_words(wait)}.", retry_after=wait
            )
        del self._blocked[key]

    async def failed(self, key: str) -> None:
        wait = await self._counters.hit(self._rule, key)
        if wait is None:
            return
        if len(self._blocked) >= MAX_BLOCKED:
            now = time.time()
            self._blocked = {k: until for k, until in self._blocked.items() if until > now}
        self._blocked[key] = time.time() + wait
        log.warning("rate limit reached: %s; refused for %d seconds", self._rule.name, wait)


class RateLimits:
    """Every limit of one app, built from settings; `aclose` when the app stops."""

    def __init__(self, settings: Settings) -> None:
        self._pool: Any = None
        storage: Storage
        if settings.redis_url:
            from redis.asyncio import ConnectionPool

            self._pool = ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=settings.redis_key_prefix,
                wrap_exceptions=True,
                connection_pool=self._pool,
            )
        else:
            storage = MemoryStorage()
        self._counters = Counters(storage)
        s = settings
        self.login_account = Rule.parse("login-account", s.rate_limit_login_per_account)
        self.login_ip = Rule.parse("login-ip", s.rate_limit_login_per_ip)
        self.signup_ip = Rule.parse("signup-ip", s.rate_limit_signup_per_ip)
        self.client_auth_client = Rule.parse(
            "client-auth-client", s.rate_limit_client_auth_per_client
        )
        self.client_auth_ip = Rule.parse("client-auth-ip", s.rate_limit_client_auth_per_ip)
        self.token_client = Rule.parse("token-client", s.rate_limit_token_per_client)
        self.token_ip = Rule.parse("token-ip", s.rate_limit_token_per_ip)
        self.token_failure_cost = s.rate_limit_token_failure_cost
        self.bearer = FailureGate(Rule.parse("bearer-ip", s.rate_limit_bearer_failures_per_ip))

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    # --- sign-in and sign-up ---------------------------------------------------------

    async def check_login(self, ip: str, email: str) -> None:
        """RateLimited while the account or the address has failed too often; the
        password is then not even checked."""
        wait = await self._counters.retry_after(
            [(self.login_account, _account_key(email)), (self.login_ip, ip)]
        )
        if wait is not None:
            raise RateLimited(
                f"Too many failed sign-ins. Try again in {_in_words(wait)}.", retry_after=wait
            )

    async def login_failed(self, ip: str, email: str) -> None:
        await self._counters.hit(self.login_account, _account_key(email))
        await self._counters.hit(self.login_ip, ip)

    async def check_signup(self, ip: str) -> None:
        wait = await self._counters.retry_after([(self.signup_ip, ip)])
        if wait is not None:
            raise RateLimited(
                f"Too many sign-ups from your network. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )

    async def signed_up(self, ip: str) -> None:
        await self._counters.hit(self.signup_ip, ip)

    # --- OAuth clients ---------------------------------------------------------------

    @asynccontextmanager
    async def client_request(
        self, ip: str, client_id: str | None, *, token_endpoint: bool
    ) -> AsyncIterator[None]:
        """Around a request that authenticates a client (`client_id` as it claims to be,
        None when it names none): refused while the client or the address failed to
        authenticate too often, or at the token endpoint sent too many requests; its
        failure counted when it fails."""
        client = (client_id or "")[:128]
        if token_endpoint:
            for rule, key in ((self.token_ip, ip), (self.token_client, client)):
                if not key:
                    continue
                wait = await self._counters.hit(rule, key)
                if wait is not None:
                    raise RateLimited(
                        f"Too many requests. Try again in {_in_words(wait)}.", retry_after=wait
                    )
        auth_rules = [(self.client_auth_ip, ip)]
        if client:
            auth_rules.append((self.client_auth_client, client))
        wait = await self._counters.retry_after(auth_rules)
        if wait is not None:
            raise RateLimited(
                f"Too many failed client authentications. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )
        try:
            yield
        except OAuthError as error:
            if isinstance(error, InvalidClient):
                for rule, key in auth_rules:
                    await self._counters.hit(rule, key)
            if token_endpoint and self.token_failure_cost > 1:
                extra = self.token_failure_cost - 1
                await self._counters.hit(self.token_ip, ip, extra)
                if client:
                    await self._counters.hit(self.token_client, client, extra)
            raise
