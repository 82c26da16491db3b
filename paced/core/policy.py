"""The knobs of the rules, built once from settings and handed to the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from paced.core.passwords import DEFAULT, Hashing


@dataclass(frozen=True, slots=True)
class Policy:
    # The issuer identifier (PACED_BASE_URL), which also names the API as a resource.
    issuer: str = ""
    access_token_ttl: timedelta = timedelta(seconds=7200)
    auth_code_ttl: timedelta = timedelta(seconds=600)
    # None: no limit (SPEC §1 writes it as 0).
    refresh_token_ttl: timedelta | None = None
    refresh_token_max_age: timedelta | None = None
    refresh_reuse_grace: timedelta = timedelta(0)
    session_idle: timedelta = timedelta(days=14)
    # Writes of last-used times are coarse so that a valid request costs no write.
    last_used_granularity: timedelta = timedelta(minutes=1)
    password_hashing: Hashing = DEFAULT
    # RFC 7591 at /oauth/register (PACED_DYNAMIC_REGISTRATION=open).
    dynamic_registration: bool = True
    # An https URL as client_id, its metadata document fetched (docs/oauth.md).
    client_id_metadata_documents: bool = True
    # A self-registered client that got no grant in this time is deleted by `paced purge`.
    unclaimed_client_ttl: timedelta = timedelta(hours=24)
