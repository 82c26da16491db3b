"""Passkeys (WebAuthn Level 3), through the maintained `webauthn` library: registering
one, and answering a challenge with one, as the second step of a sign-in or to sign in
without a password (docs/two-factor.md).

The relying party's id is the host of PACED_BASE_URL and its origin the base URL.
Each challenge is answered once (a conditional delete) and only by the session or
browser that asked for it (its `binding`, kept as a digest); the signature counter must
go up (WebAuthn §6.1.1) and is stored with a conditional update. User verification is
preferred, not required.

`webauthn` (and the models and CBOR decoder it brings) is imported by the ceremonies that
use it, on the first passkey request: a server whose users never use passkeys does not
hold it in memory.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import urlsplit

from paced.core import security_log, two_factor
from paced.core.accounts import PasswordCheck
from paced.core.errors import Invalid
from paced.core.ids import digest, new_id
from paced.core.policy import Policy
from paced.core.records import Passkey, User
from paced.core.security_log import Origin
from paced.core.store import PasskeyStore, UserStore
from paced.core.text import has_controls

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

Purpose = Literal["register", "sign_in", "second_step"]
MAX_NAME = 100
MAX_CREDENTIAL = 20_000
NOT_ACCEPTED = "That passkey was not accepted. Try again, or use another way to sign in."
START_AGAIN = "This passkey request has expired or was already answered. Start again."


@dataclass(frozen=True, slots=True)
class RelyingParty:
    id: str
    origin: str
    name: str = "Paced Email"

    @classmethod
    def for_base_url(cls, base_url: str) -> RelyingParty:
        parts = urlsplit(base_url)
        return cls(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def bytes_to_base64url(value: bytes) -> str:
    """Base64url without padding, as WebAuthn writes binary values in JSON."""
    return base64.urlsafe_b64encode(value).decode("ascii").rstrip("=")


def base64url_to_bytes(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class PasskeyFailed(Invalid):
    def __init__(self, message: str = NOT_ACCEPTED) -> None:
        super().__init__(message, fields={"passkey": message})


def _binding(binding: str) -> str:
    return digest(binding)


async def start(
    store: PasskeyStore,
    binding: str,
    purpose: Purpose,
    now: datetime,
    policy: Policy,
    *,
    user_id: str | None = None,
) -> None:
    """A new challenge for `binding` (the session or browser asking), replacing its
    earlier one of the same purpose."""
    await store.add_challenge(
        challenge=bytes_to_base64url(secrets.token_bytes(64)),
        binding=_binding(binding),
        purpose=purpose,
        user_id=user_id,
        expires_at=now + policy.webauthn_challenge_ttl,
    )


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in passkeys]


async def registration_options(
    store: PasskeyStore,
    rp: RelyingParty,
    user: User,
    binding: str,
    now: datetime,
    policy: Policy,
) -> str | None:
    """The JSON options for `navigator.credentials.create`, with the binding's live
    challenge; None when it has none."""
    import webauthn
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    live = await store.live_challenge(_binding(binding), "register", now)
    if live is None or live[1] != user.id:
        return None
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user.email,
        user_id=user.id.encode(),
        user_display_name=user.name or user.email,
        challenge=base64url_to_bytes(live[0]),
        timeout=int(policy.webauthn_challenge_ttl.total_seconds() * 1000),
        # A passkey is a discoverable credential: it can sign in without an email.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(await store.passkeys_of(user.id)),
    )
    return webauthn.options_to_json(options)


async def authentication_options(
    store: PasskeyStore,
    rp: RelyingParty,
    binding: str,
    purpose: Purpose,
    now: datetime,
    policy: Policy,
) -> str | None:
    """The JSON options for `navigator.credentials.get`: the account's passkeys for a
    second step, any discoverable one for a sign-in; None without a live challenge."""
    import webauthn
    from webauthn.helpers.structs import UserVerificationRequirement

    live = await store.live_challenge(_binding(binding), purpose, now)
    if live is None:
        return None
    challenge, user_id = live
    options = webauthn.generate_authentication_options(
        rp_id=rp.id,
        challenge=base64url_to_bytes(challenge),
        timeout=int(policy.webauthn_challenge_ttl.total_seconds() * 1000),
        allow_credentials=_descriptors(await store.passkeys_of(user_id)) if user_id else [],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return webauthn.options_to_json(options)


def _client_challenge(credential: str) -> str:
    """The challenge the browser signed, from the response's clientDataJSON."""
    try:
        parsed = json.loads(credential)
        client_data = base64url_to_bytes(parsed["response"]["clientDataJSON"])
        challenge = json.loads(client_data)["challenge"]
    except (ValueError, KeyError, TypeError):
        raise PasskeyFailed from None
    if not isinstance(challenge, str) or len(challenge) > 100:
        raise PasskeyFailed
    return challenge


async def _take(
    store: PasskeyStore, credential: str, binding: str, purpose: Purpose, now: datetime
) -> tuple[str, str | None]:
    """The challenge answered, once; with the user it was made for."""
    if len(credential) > MAX_CREDENTIAL:
        raise PasskeyFailed
    challenge = _client_challenge(credential)
    live = await store.live_challenge(_binding(binding), purpose, now)
    if live is None or live[0] != challenge:
        raise PasskeyFailed(START_AGAIN)
    if not await store.take_challenge(challenge, _binding(binding), purpose, now):
        raise PasskeyFailed(START_AGAIN)
    return live


def check_name(name: str) -> str:
    name = name.strip() or "Passkey"
    if len(name) > MAX_NAME:
        raise Invalid(fields={"name": f"Use at most {MAX_NAME} characters."})
    if has_controls(name, joiners=True):
        raise Invalid(fields={"name": "Use letters, digits, spaces and punctuation only."})
    return name


async def register(
    store: two_factor.TwoFactorStore,
    rp: RelyingParty,
    user: User,
    binding: str,
    credential: str,
    name: str,
    now: datetime,
    *,
    check: PasswordCheck,
    origin: Origin,
    policy: Policy,
) -> list[str] | None:
    """Store the passkey that answered the registration challenge, once the account's
    password (`check`) is right: a passkey signs in alone. Returns the new recovery codes
    when it turned two-factor authentication on."""
    if check.credentials is None or not check.ok or check.credentials.user.id != user.id:
        await security_log.record(store, "passkey_add_failed", now, origin, user_id=user.id)
        raise two_factor.WrongPassword
    name = check_name(name)
    challenge, user_id = await _take(store, credential, binding, "register", now)
    if user_id != user.id:
        raise PasskeyFailed(START_AGAIN)
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise PasskeyFailed(NOT_ACCEPTED) from error
    was_enabled = await two_factor.is_enabled(store, user.id)
    passkey = Passkey(
        id=new_id("passkey"),
        user_id=user.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=name,
        created_at=now,
        last_used_at=None,
    )
    if not await store.add_passkey(passkey):
        raise PasskeyFailed("This passkey is registered already.")
    await security_log.record(
        store, "passkey_added", now, origin, user_id=user.id, detail={"name": name}
    )
    return await two_factor.enabled_by(store, user, was_enabled, "passkey", now, origin, policy)


async def authenticate(
    store: PasskeyStore,
    rp: RelyingParty,
    binding: str,
    purpose: Literal["sign_in", "second_step"],
    credential: str,
    now: datetime,
) -> Passkey:
    """The passkey that answered the binding's challenge, its counter recorded. For a
    second step, only a passkey of the account the challenge was made for is accepted."""
    challenge, user_id = await _take(store, credential, binding, purpose, now)
    try:
        credential_id = json.loads(credential)["id"]
    except (ValueError, KeyError, TypeError):
        raise PasskeyFailed from None
    passkey = (
        await store.passkey_by_credential_id(credential_id)
        if isinstance(credential_id, str)
        else None
    )
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise PasskeyFailed
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            # The library refuses a counter that did not go up (a cloned authenticator).
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise PasskeyFailed from error
    if not await store.record_passkey_use(
        passkey.id, passkey.sign_count, verified.new_sign_count, now
    ):
        raise PasskeyFailed
    return passkey


class SignInStore(PasskeyStore, UserStore, Protocol):
    """Passkeys, and the accounts they sign in to."""


async def sign_in(
    store: SignInStore, rp: RelyingParty, binding: str, credential: str, now: datetime
) -> User | None:
    """The account whose passkey answered the sign-in challenge (raises PasskeyFailed);
    None when there is no such account (any more)."""
    passkey = await authenticate(store, rp, binding, "sign_in", credential, now)
    return await store.user_by_id(passkey.user_id)


async def second_step(
    store: two_factor.SecondStepStore,
    rp: RelyingParty,
    binding: str,
    user_id: str,
    credential: str,
    now: datetime,
    *,
    origin: Origin,
) -> User | None:
    """The account that passed the first step, once one of its passkeys answered the
    challenge; a passkey that did not is logged like a wrong code (raises
    PasskeyFailed). None when there is no such account (any more)."""
    user = await store.user_by_id(user_id)
    if user is None:
        return None
    try:
        await authenticate(store, rp, binding, "second_step", credential, now)
    except PasskeyFailed:
        await two_factor.second_step_failed(store, user, now, origin=origin)
        raise
    return user


async def remove(
    store: two_factor.TwoFactorStore,
    user: User,
    passkey_id: str,
    now: datetime,
    *,
    origin: Origin,
) -> None:
    """Remove one passkey while another second factor remains; the last one goes only
    with two-factor authentication itself (`two_factor.turn_off`, which needs the
    password)."""
    status = await two_factor.status_of(store, user.id)
    found = next((p for p in status.passkeys if p.id == passkey_id), None)
    if found is None:
        raise Invalid("That passkey does not exist.")
    if not status.authenticator_app and len(status.passkeys) == 1:
        raise Invalid(
            "This is your only second factor: turn two-factor authentication off instead."
        )
    await store.delete_passkey(user.id, passkey_id)
    await security_log.record(
        store, "passkey_removed", now, origin, user_id=user.id, detail={"name": found.name}
    )
