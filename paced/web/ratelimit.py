"""Rate limits (docs/reference.md §6): HTTP policy, kept at the edge with the `limits` library.

    sign-in         failed sign-ins per account (or per trusted browser) and per address,
                    counted before the password is checked; also wrong current passwords
    sign-up         accounts made (or emails found taken) per IP address
    password reset  links asked for per address (known or not) and per IP address;
                    verification links sent again per account
    registration    client registrations (RFC 7591) per IP address
    client auth     failed client authentications per address before authentication, and
                    per client id only for requests that fail it
    token endpoint  requests per address; tokens issued per client
    Bearer          invalid tokens per address, in this process's memory only
    leak reports    reports of leaked credentials per address, each counted
    device codes    wrong user codes typed at /device per account (RFC 8628 §5.1),
                    counted before the code is looked up

Counters use moving windows: "10 in 10 minutes" means exactly that, at any moment. They
live in memory, or in Redis when PACED_REDIS_URL is set, so that every node shares them.
An IPv6 address is counted by its /64, the block one subscriber is given.

No limit may become a way to lock the rightful owner out (docs/reference.md §6, OWASP's "Blocking
Brute Force Attacks"):
- a client that authenticates correctly is never refused by its client id's failures:
  those are only counted and answered on requests that fail to authenticate, and the
  client's request limit counts only tokens it was issued;
- a browser that signed in to an account before carries a signed device cookie
  (`paced.web.device`), and its sign-ins count against that cookie instead of against the
  account, so that a stranger's guesses cannot lock the owner's browser out;
- a refused attempt is not itself counted: the limit lifts when the window has room again.

If Redis cannot be reached, requests pass unlimited (and a warning is logged): an outage
of the counters is not an outage of sign-in.

A limited request raises `RateLimited`; `paced.web.errors` answers 429 with `Retry-After`
in the endpoint's shape, and the sign-in and sign-up forms show it on the form.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import limits
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from paced.core.accounts import email_key
from paced.core.errors import (
    AuthorizationPending,
    InvalidClient,
    OAuthError,
    RateLimited,
    SlowDown,
)
from paced.settings import Settings

log = logging.getLogger("paced.ratelimit")

# Redis answers in well under a millisecond; one that does not is treated as down.
REDIS_TIMEOUT = 1.0
# A Redis outage is logged at most this often, not once per request.
WARN_EVERY = 60.0
# Beyond this many blocked addresses, the Bearer gate forgets the expired ones.
MAX_BLOCKED = 10_000
# Successes a key may have in a window before they stop widening its room for attempts:
# far more sign-ins than one address or browser makes honestly.
SUCCESSES_PER_FAILURE = 10


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


def ip_key(ip: str) -> str:
    """The key an address is counted under: an IPv6 address by its /64, since one
    subscriber is given a whole /64 (RFC 6177) and can change address within it at will."""
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    except ValueError:
        return ip


def account_key(email: str, unlocked_at: datetime | None = None) -> str:
    """An account's key: equal for every spelling of its email that finds the account.
    Emails stay out of the counters' store. `unlocked_at`: the account's last `paced users
    unlock` (`Credentials.unlocked_at`), which starts its counts afresh on every node,
    whether they live in memory or in Redis."""
    key = "account:" + hashlib.sha256(email_key(email).encode()).hexdigest()[:32]
    return key if unlocked_at is None else f"{key}:{int(unlocked_at.timestamp())}"


def device_key(device: str) -> str:
    """The key of a browser that signed in to the account before (`paced.web.device`)."""
    return "device:" + device


class Counters:
    """Moving-window counters over one `limits` storage; failing open on storage errors."""

    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        # The moving-window storage interface that the limiter itself uses, for the
        # attempts counted before their outcome.
        self._storage: Any = storage
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

    async def attempt(self, rule: Rule, key: str) -> int | None:
        """Count an attempt whose outcome is not known yet, unless the window's failures
        (its attempts less its successes) already fill the rule: None when it was counted,
        else the seconds until it will be. Counted before the outcome, concurrent attempts
        cannot all pass and then all fail (docs/reference.md §6); `succeeded` takes a success
        back out by widening the room for attempts."""
        item = rule.item
        if item is None:
            return None
        attempts = item.key_for(rule.name, key)
        successes = item.key_for(rule.name + "-ok", key)
        expiry = item.get_expiry()
        storage = self._storage
        try:
            _, succeeded = await storage.get_moving_window(
                successes, item.amount * SUCCESSES_PER_FAILURE, expiry
            )
            room = item.amount + succeeded
            if await storage.acquire_entry(attempts, room, expiry):
                return None
            oldest, _ = await storage.get_moving_window(attempts, room, expiry)
        except StorageError as error:
            self._storage_down(error)
            return None
        return _retry_after(oldest + expiry)

    async def succeeded(self, rule: Rule, key: str) -> None:
        """The attempt counted last under this key succeeded: it is no failure."""
        item = rule.item
        if item is None:
            return
        try:
            await self._storage.acquire_entry(
                item.key_for(rule.name + "-ok", key),
                item.amount * SUCCESSES_PER_FAILURE,
                item.get_expiry(),
            )
        except StorageError as error:
            self._storage_down(error)


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

    def check(self, ip: str) -> None:
        key = ip_key(ip)
        until = self._blocked.get(key)
        if until is None:
            return
        if until > time.time():
            wait = _retry_after(until)
            raise RateLimited(
                f"Too many invalid tokens. Try again in {_in_words(wait)}.", retry_after=wait
            )
        del self._blocked[key]

    async def failed(self, ip: str) -> None:
        key = ip_key(ip)
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
        self.reset_account = Rule.parse("reset-account", s.rate_limit_password_reset_per_account)
        self.reset_ip = Rule.parse("reset-ip", s.rate_limit_password_reset_per_ip)
        self.verification = Rule.parse("verification", s.rate_limit_verification_per_account)
        self.bearer = FailureGate(Rule.parse("bearer-ip", s.rate_limit_bearer_failures_per_ip))
        self.credential_reports_ip = Rule.parse(
            "credential-reports-ip", s.rate_limit_credential_reports_per_ip
        )
        self.device_code_account = Rule.parse(
            "device-code-account", s.rate_limit_device_code_per_account
        )
        self.registration_ip = Rule.parse("registration-ip", s.rate_limit_registration_per_ip)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    # --- sign-in and sign-up ---------------------------------------------------------

    async def sign_in_attempt(self, ip: str, account: str) -> None:
        """Count one attempt at an account's password (a sign-in, or the current password
        of a password change) before the password is checked: against the address and
        against `account` (`account_key`, or `device_key` for a browser that signed in to
        the account before). RateLimited, and nothing checked, while either has failed
        too often; `sign_in_succeeded` when the password was right."""
        # The address first: an attempt it refuses leaves the account's count alone.
        for rule, key, whose in (
            (self.login_ip, ip_key(ip), "your network"),
            (self.login_account, account, "this account"),
        ):
            wait = await self._counters.attempt(rule, key)
            if wait is not None:
                raise RateLimited(
                    f"Too many failed sign-ins for {whose}. Try again in {_in_words(wait)}.",
                    retry_after=wait,
                )

    async def sign_in_succeeded(self, ip: str, account: str) -> None:
        await self._counters.succeeded(self.login_ip, ip_key(ip))
        await self._counters.succeeded(self.login_account, account)

    async def check_signup(self, ip: str) -> None:
        wait = await self._counters.retry_after([(self.signup_ip, ip_key(ip))])
        if wait is not None:
            raise RateLimited(
                f"Too many sign-ups from your network. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )

    async def signed_up(self, ip: str) -> None:
        await self._counters.hit(self.signup_ip, ip_key(ip))

    # --- leaked credentials ------------------------------------------------------------

    async def credential_report(self, ip: str) -> None:
        """Count one report of leaked credentials; RateLimited when the address sent
        too many. Each report may hold a thousand values to look up."""
        wait = await self._counters.hit(self.credential_reports_ip, ip_key(ip))
        if wait is not None:
            raise RateLimited(
                f"Too many reports from your network. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )

    # --- mailed links --------------------------------------------------------------------

    async def password_reset_asked(self, ip: str, email: str) -> None:
        """Count a request for a reset link, known address or not (the answer must not
        tell them apart): RateLimited when the address or the IP asked too often."""
        for rule, key, whose in (
            (self.reset_ip, ip_key(ip), "your network"),
            (self.reset_account, account_key(email), "this address"),
        ):
            wait = await self._counters.hit(rule, key)
            if wait is not None:
                raise RateLimited(
                    f"Too many reset links asked for {whose}. Try again in {_in_words(wait)}.",
                    retry_after=wait,
                )

    async def verification_resent(self, user_id: str) -> None:
        wait = await self._counters.hit(self.verification, user_id)
        if wait is not None:
            raise RateLimited(
                f"Too many links sent. Try again in {_in_words(wait)}.", retry_after=wait
            )

    # --- OAuth clients ---------------------------------------------------------------

    async def registration(self, ip: str) -> None:
        """Count one request to register a client (RFC 7591 §3), before it is read: an
        address registers at most so many clients, good or bad, in the window."""
        wait = await self._counters.hit(self.registration_ip, ip_key(ip))
        if wait is not None:
            raise RateLimited(
                f"Too many client registrations from your network. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )

    @asynccontextmanager
    async def client_request(
        self, ip: str, client_id: str | None, *, token_endpoint: bool
    ) -> AsyncIterator[None]:
        """Around a request that authenticates a client (`client_id` as it claims to be,
        None when it names none).

        Before authentication only the address's limits apply: its requests at the token
        endpoint, and its failed client authentications. A claimed client id is anyone's
        to claim, so its failures are counted, and answered 429 once too many, only on
        requests that fail to authenticate: the client with its right secret never meets
        them (docs/reference.md §6). Likewise a client's request limit at the token endpoint
        counts the tokens it was issued, which nobody else can make it spend."""
        address = ip_key(ip)
        client = (client_id or "")[:128]
        if token_endpoint:
            wait = await self._counters.hit(self.token_ip, address)
            if wait is None and client:
                wait = await self._counters.retry_after([(self.token_client, client)])
            if wait is not None:
                raise RateLimited(
                    f"Too many requests. Try again in {_in_words(wait)}.", retry_after=wait
                )
        wait = await self._counters.retry_after([(self.client_auth_ip, address)])
        if wait is not None:
            raise RateLimited(
                f"Too many failed client authentications. Try again in {_in_words(wait)}.",
                retry_after=wait,
            )
        try:
            yield
        except OAuthError as error:
            # A device polling for its answer (RFC 8628 §3.5) fails nothing.
            polling = isinstance(error, (AuthorizationPending, SlowDown))
            if token_endpoint and self.token_failure_cost > 1 and not polling:
                await self._counters.hit(self.token_ip, address, self.token_failure_cost - 1)
            if isinstance(error, InvalidClient):
                await self._counters.hit(self.client_auth_ip, address)
                if client:
                    wait = await self._counters.hit(self.client_auth_client, client)
                    if wait is not None:
                        raise RateLimited(
                            "Too many failed client authentications. "
                            f"Try again in {_in_words(wait)}.",
                            retry_after=wait,
                        ) from error
            raise
        if token_endpoint and client:
            await self._counters.hit(self.token_client, client)

    # --- user codes at /device --------------------------------------------------------

    async def user_code_attempt(self, user_id: str) -> None:
        """Count one user code typed by this account before it is looked up, unless its
        wrong codes already fill the limit: then RateLimited. `user_code_found` when the
        code was right. Per account, so that guessing needs many accounts (RFC 8628 §5.1)."""
        wait = await self._counters.attempt(self.device_code_account, "user:" + user_id)
        if wait is not None:
            raise RateLimited(
                f"Too many wrong codes. Try again in {_in_words(wait)}.", retry_after=wait
            )

    async def user_code_found(self, user_id: str) -> None:
        await self._counters.succeeded(self.device_code_account, "user:" + user_id)
