"""What the app holds for its whole life, built once in `create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.templating import Jinja2Templates

from paced.core.client_metadata_document import DocumentFetcher
from paced.core.passkeys import RelyingParty
from paced.core.policy import Policy
from paced.core.totp import SecretBox
from paced.mail.sender import MailSender
from paced.settings import Settings
from paced.storage.database import Database
from paced.web.cookies import Cookies
from paced.web.ratelimit import RateLimits
from paced.web.signing import Signer

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    # Full precision, so that what is made within one second keeps its order (two client
    # secrets, say); every answer shows times to the second (docs/reference.md §5).
    return datetime.now(UTC)


@dataclass
class AppState:
    settings: Settings
    policy: Policy
    # The database: units of work, reads and the Bearer check.
    database: Database
    signer: Signer
    templates: Jinja2Templates
    clock: Clock
    cookies: Cookies
    rate_limits: RateLimits
    mail: MailSender
    # Encrypts authenticator-app secrets at rest (paced.core.totp).
    totp_box: SecretBox
    # WebAuthn's relying party: the base URL's host and origin.
    relying_party: RelyingParty
    # Fetches client ID metadata documents (paced.outbound).
    documents: DocumentFetcher

    @property
    def issuer(self) -> str:
        return self.settings.base_url
