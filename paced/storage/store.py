"""`Store`: every storage protocol of the core, over one connection and its transaction.

Each concern keeps its rows in a module of its own; this class only puts them together.
"""

from __future__ import annotations

from paced.storage.apps import AppRows
from paced.storage.connection import StorageConnection
from paced.storage.device_codes import DeviceCodeRows
from paced.storage.grants import GrantRows
from paced.storage.mail import MailRows
from paced.storage.oauth_tokens import OAuthTokenRows
from paced.storage.one_time_links import LinkRows
from paced.storage.personal_tokens import PersonalTokenRows
from paced.storage.security_log import SecurityEventRows
from paced.storage.two_factor import PasskeyRows, RecoveryCodeRows, TotpRows
from paced.storage.users import SessionRows, UserRows


class Store(
    UserRows,
    SessionRows,
    AppRows,
    GrantRows,
    DeviceCodeRows,
    PersonalTokenRows,
    OAuthTokenRows,
    SecurityEventRows,
    LinkRows,
    MailRows,
    TotpRows,
    RecoveryCodeRows,
    PasskeyRows,
):
    def __init__(self, connection: StorageConnection) -> None:
        self.connection = connection
