"""mypy proves here that `MemoryStore` implements each storage protocol of the core: an
assignment fails type checking when a method is missing or its signature differs
(pyproject.toml has mypy check tests/fakes/; tests/test_fakes.py checks that every
protocol of paced.core is listed)."""

from __future__ import annotations

from paced.core.account_status import StatusStore
from paced.core.accounts import AccountStore, PasswordChangeStore
from paced.core.apps import AuditedAppStore
from paced.core.authorization_codes import CodeExchangeStore, ReplayStore
from paced.core.consent import ApprovalLog, ApprovalStore, OwnerStore, ScreenStore
from paced.core.device_approval import DeviceApprovalStore, DeviceLookupStore
from paced.core.device_authorization import DeviceAuthorizationStore
from paced.core.device_grant import DeviceGrantStore
from paced.core.email_verification import VerificationStore
from paced.core.grants import AuditedAuthorizedAppStore
from paced.core.introspection import IntrospectionStore
from paced.core.leaks import ClientSecretOwners, LeakStore, PersonalTokensByDigest
from paced.core.mail import MailOutbox, MailQueue
from paced.core.one_time_links import LinkStore
from paced.core.passkeys import SignInStore
from paced.core.password_reset import ResetStore
from paced.core.personal_tokens import AuditedTokenStore
from paced.core.refresh_rotation import RefreshStore, ReuseStore
from paced.core.registration import RegistrationStore
from paced.core.revocation import RevocationStore
from paced.core.sessions import SignOutStore
from paced.core.store import (
    AccessTokens,
    AccountStatusStore,
    AppLookup,
    AppStore,
    AuthorizationCodes,
    AuthorizedAppStore,
    BearerStore,
    ClientStore,
    ConsentStore,
    DeviceCodes,
    GrantRevocation,
    PasskeyStore,
    PersonalTokenStore,
    RecoveryCodeStore,
    RefreshTokens,
    SecurityLog,
    SecurityLogReader,
    SessionList,
    SessionStore,
    TokenIssuance,
    TotpStore,
    UnusedPersonalTokens,
    UserStore,
)
from paced.core.token_endpoint import TokenEndpointStore
from paced.core.token_expiry import ExpiringTokens
from paced.core.two_factor import ChangeLog, SecondStepStore, TwoFactorStore
from paced.core.unused_tokens import UnusedTokenStore
from tests.fakes import MemoryStore

_MEMORY = MemoryStore()
_user_store: UserStore = _MEMORY
_account_status_store: AccountStatusStore = _MEMORY
_session_store: SessionStore = _MEMORY
_client_store: ClientStore = _MEMORY
_grant_revocation: GrantRevocation = _MEMORY
_app_store: AppStore = _MEMORY
_authorization_codes: AuthorizationCodes = _MEMORY
_token_issuance: TokenIssuance = _MEMORY
_refresh_tokens: RefreshTokens = _MEMORY
_access_tokens: AccessTokens = _MEMORY
_app_lookup: AppLookup = _MEMORY
_consent_store: ConsentStore = _MEMORY
_device_codes: DeviceCodes = _MEMORY
_authorized_app_store: AuthorizedAppStore = _MEMORY
_personal_token_store: PersonalTokenStore = _MEMORY
_unused_personal_tokens: UnusedPersonalTokens = _MEMORY
_bearer_store: BearerStore = _MEMORY
_security_log: SecurityLog = _MEMORY
_security_log_reader: SecurityLogReader = _MEMORY
_session_list: SessionList = _MEMORY
_totp_store: TotpStore = _MEMORY
_recovery_code_store: RecoveryCodeStore = _MEMORY
_passkey_store: PasskeyStore = _MEMORY
_mail_queue: MailQueue = _MEMORY
_mail_outbox: MailOutbox = _MEMORY
_link_store: LinkStore = _MEMORY
_client_secret_owners: ClientSecretOwners = _MEMORY
_personal_tokens_by_digest: PersonalTokensByDigest = _MEMORY
_owner_store: OwnerStore = _MEMORY
_expiring_tokens: ExpiringTokens = _MEMORY
# The use cases' own combinations of them.
_account_store: AccountStore = _MEMORY
_password_change_store: PasswordChangeStore = _MEMORY
_status_store: StatusStore = _MEMORY
_audited_app_store: AuditedAppStore = _MEMORY
_code_exchange_store: CodeExchangeStore = _MEMORY
_replay_store: ReplayStore = _MEMORY
_approval_log: ApprovalLog = _MEMORY
_approval_store: ApprovalStore = _MEMORY
_screen_store: ScreenStore = _MEMORY
_device_approval_store: DeviceApprovalStore = _MEMORY
_device_lookup_store: DeviceLookupStore = _MEMORY
_device_authorization_store: DeviceAuthorizationStore = _MEMORY
_device_grant_store: DeviceGrantStore = _MEMORY
_verification_store: VerificationStore = _MEMORY
_audited_authorized_app_store: AuditedAuthorizedAppStore = _MEMORY
_introspection_store: IntrospectionStore = _MEMORY
_leak_store: LeakStore = _MEMORY
_reset_store: ResetStore = _MEMORY
_audited_token_store: AuditedTokenStore = _MEMORY
_refresh_store: RefreshStore = _MEMORY
_reuse_store: ReuseStore = _MEMORY
_registration_store: RegistrationStore = _MEMORY
_revocation_store: RevocationStore = _MEMORY
_sign_out_store: SignOutStore = _MEMORY
_token_endpoint_store: TokenEndpointStore = _MEMORY
_change_log: ChangeLog = _MEMORY
_two_factor_store: TwoFactorStore = _MEMORY
_second_step_store: SecondStepStore = _MEMORY
_sign_in_store: SignInStore = _MEMORY
_unused_token_store: UnusedTokenStore = _MEMORY
