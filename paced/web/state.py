"""What the app holds for its whole life, built once in `create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine

from paced.core.policy import Policy
from paced.settings import Settings
from paced.web.signing import Signer

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    # Timestamps are kept to the second (SPEC §5).
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class AppState:
    settings: Settings
    policy: Policy
    engine: AsyncEngine
    signer: Signer
    templates: Jinja2Templates
    clock: Clock
    secure_cookies: bool

    @property
    def issuer(self) -> str:
        return self.settings.base_url
