"""Wires adapters into domain services from the function's settings (handlers/settings.py), once
per container.

Everything is imported inside the factories: a function loads only the adapters it uses."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from handlers import policies
from handlers.settings import (
    ListUsersSettings,
    MailTokenKeySettings,
    MetadataSettings,
    MfaKeySettings,
    MfaPolicySettings,
    MfaSettings,
    PasskeyAssertionSettings,
    PasskeySettings,
    PasskeySignInSettings,
    RecoverySettings,
    RelyingPartySettings,
    SettingsError,
    TableSettings,
    TokenIssuerSettings,
    TokenSettingsEnv,
    TokenVerifierSettings,
    TombstoneSettings,
    UserPoolMigrationSettings,
    load,
)
from handlers.snapstart import on_restore

if TYPE_CHECKING:  # each function imports only what it uses (the authorizer: no boto3)
    from adapters.dynamodb_login_state import DynamoDBLoginState
    from adapters.dynamodb_mfa_challenges import DynamoDBMfaChallengeStore
    from adapters.dynamodb_passkey_repository import DynamoDBPasskeyRepository
    from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from adapters.key_store import PublicKeySource, SigningKeySource
    from domain.account_recovery import AccountRecoveryService
    from domain.admin_service import AdminService
    from domain.auth_service import AuthService
    from domain.mail_limits import MailLimiter
    from domain.metadata import MetadataPolicy
    from domain.mfa import MfaService
    from domain.mfa_crypto import MfaKeys
    from domain.mfa_login import MfaLogin
    from domain.passkey_assertions import PasskeyAssertions
    from domain.passkey_ceremonies import RelyingParty
    from domain.passkey_service import PasskeyService
    from domain.passkey_sign_in import PasskeySignIn
    from domain.password_guard import PasswordGuard
    from domain.reauthentication import RecentAuthentication
    from domain.source_limits import SourceLimiter, SourceLimits
    from domain.tokens import TokenIssuer, TokenSettings
    from domain.user_migration import UserMigration
    from domain.user_service import UserService


# MAC keys change only when an operator replaces them: kept in the container for a minute,
# which spares warm requests a localhost round trip each (~1 ms of CPU) on top of the extension's
# own cache (300 s), so a new key reaches every function within six minutes.
MAC_KEY_CACHE_SECONDS = 60.0
_mac_keys: dict[str, tuple[float, bytes]] = {}


def forget_mac_keys() -> None:
    """For a new stack in the same process (tests)."""
    _mac_keys.clear()


def _secret_bytes(secret_id: str) -> bytes:
    """A MAC key, through the parameters extension where the function has it (no Secrets
    Manager client to create on a cold start); else the SDK, cached as long as the extension."""
    cached = _mac_keys.get(secret_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    from adapters.parameters_extension import read_secret, through_extension

    value = through_extension(read_secret, secret_id)
    if value is None:
        from aws_lambda_powertools.utilities.parameters import get_secret

        value = str(get_secret(secret_id, max_age=300))
    _mac_keys[secret_id] = (time.monotonic() + MAC_KEY_CACHE_SECONDS, value.encode())
    return value.encode()


def _cursor_key() -> bytes:
    return _secret_bytes(load(ListUsersSettings).cursor_secret_arn)


def mail_token_key() -> bytes:
    """The MAC key of recovery tokens (domain/recovery_tokens.py): verify, reset and mailer."""
    return _secret_bytes(load(MailTokenKeySettings).mail_token_secret_arn)


@cache
def user_repository() -> DynamoDBUserRepository:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from handlers.actors import request_actor
    from handlers.observability import logger

    settings = load(TableSettings)
    return DynamoDBUserRepository(
        settings.table_name,
        cursor_key=_cursor_key,
        request_id=logger.get_correlation_id,
        shards=settings.user_index_shards,
        actor=request_actor,
        tombstone_retention=timedelta(days=load(TombstoneSettings).tombstone_retention_days),
    )


@cache
def login_state() -> DynamoDBLoginState:
    from adapters.dynamodb_login_state import DynamoDBLoginState
    from handlers.actors import request_actor
    from handlers.observability import logger

    return DynamoDBLoginState(
        load(TableSettings).table_name, actor=request_actor, request_id=logger.get_correlation_id
    )


@cache
def rate_limiter() -> DynamoDBRateLimiter:
    from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter

    return DynamoDBRateLimiter(load(TableSettings).table_name)


@cache
def password_guard() -> PasswordGuard:
    from domain.password_guard import PasswordGuard
    from domain.passwords import PasswordHasher

    return PasswordGuard(login_state(), PasswordHasher(), policies.throttle_policy())


@cache
def recent_authentication() -> RecentAuthentication:
    """The rule for dangerous operations; only their functions are configured for it."""
    from domain.reauthentication import RecentAuthentication

    return RecentAuthentication(password_guard(), policies.reauthentication_policy())


@cache
def mail_limiter() -> MailLimiter:
    from domain.mail_limits import MailLimiter

    return MailLimiter(rate_limiter(), policies.mail_limits(), record_metric=record_outcome)


def source_limiter() -> SourceLimiter:
    """Per-source limits of the function's unauthenticated route(s), as its environment sets
    them (read per request: a few microseconds; functions sharing a process keep their own)."""
    return _source_limiter(policies.source_limits())


@cache
def _source_limiter(limits: SourceLimits) -> SourceLimiter:
    from domain.source_limits import SourceLimiter

    return SourceLimiter(rate_limiter(), limits)


@cache
def user_service() -> UserService:
    """Functions that never set a password or mail anyone never read those policies."""
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService

    return UserService(
        user_repository(),
        PasswordHasher(),
        password_guard=password_guard(),
        recent_authentication=recent_authentication,
        mail_limiter=mail_limiter(),
        password_min_length=policies.password_min_length(),
        metadata=metadata_policy(load(MetadataSettings)),
    )


@cache
def admin_service() -> AdminService:
    """What only admins do through the API (list users, disable or enable one)."""
    from domain.admin_service import AdminService

    return AdminService(user_repository())


def metadata_policy(settings: MetadataSettings) -> MetadataPolicy:
    """The deployer's limits and schemas (a function that never writes custom attributes is
    given the defaults, which it never uses). An invalid schema fails the function's first
    request with a SettingsError naming it, as any other invalid setting does."""
    from domain.metadata import MetadataLimits, MetadataPolicy, json_schema_check

    schemas = {}
    for name, text in (
        ("metadata", settings.metadata_schema),
        ("app_metadata", settings.app_metadata_schema),
    ):
        if text.strip():
            try:
                schemas[name] = json_schema_check(text)
            except ValueError as error:
                raise SettingsError(f"{name.upper()}_SCHEMA is {error}") from None
    limits = MetadataLimits(
        max_bytes=settings.metadata_max_bytes,
        max_depth=settings.metadata_max_depth,
        max_keys=settings.metadata_max_keys,
    )
    return MetadataPolicy(limits=limits, schemas=schemas)


# ---------------------------------------------------------------- authentication
# A throttle, a stolen refresh token, a cloned passkey (domain/auth_service.py and
# domain/passkey_assertions.py name them): warnings, not routine.
WARNING_OUTCOMES = frozenset(
    {"LoginThrottled", "LoginResetRequired", "RefreshReuseDetected", "PasskeyCloneDetected"}
)


def record_outcome(name: str, *, user_id: str | None = None, family_id: str | None = None) -> None:
    """Counts ``name`` and, when it concerns a user, logs one line naming them: "which account
    was locked, whose tokens were stolen, did X get the reset mail" is answered by user id."""
    from handlers.observability import logger, metrics

    metrics.add_metric(name=name, unit="Count", value=1)
    if user_id is None:
        return
    details = {"outcome": name, "user_id": user_id}
    if family_id is not None:
        details["family_id"] = family_id
    (logger.warning if name in WARNING_OUTCOMES else logger.info)(name, extra=details)


@cache
def token_settings() -> TokenSettings:
    from domain.tokens import TokenSettings

    environment = load(TokenSettingsEnv)
    return TokenSettings(
        issuer=environment.issuer,
        audience=environment.audience,
        access_ttl_seconds=environment.access_token_ttl_seconds,
    )


@cache
def public_keys() -> PublicKeySource:
    from adapters.key_store import PublicKeySource

    settings = token_settings()
    verifier = load(TokenVerifierSettings)
    return PublicKeySource(
        verifier.jwks_parameter_name,
        settings.issuer,
        settings.audience,
        max_lifetime_seconds=settings.access_ttl_seconds,
        cache_seconds=verifier.jwks_cache_seconds,
    )


@cache
def signing_keys() -> SigningKeySource:
    """Only login and refresh have (and may read) the signing key secret."""
    from adapters.key_store import SigningKeySource

    return SigningKeySource(load(TokenIssuerSettings).signing_key_secret_arn, token_settings())


def _current_issuer() -> TokenIssuer:
    """Resolved per call: functions that never issue tokens (logout) never need the secret."""
    return signing_keys().current_issuer()


@cache
def auth_service() -> AuthService:
    from adapters.dynamodb_devices import DynamoDBDeviceRepository
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository
    from domain.auth_service import AuthService
    from domain.passwords import PasswordHasher

    table = load(TableSettings).table_name
    return AuthService(
        users=user_repository(),
        login_state=login_state(),
        sessions=DynamoDBSessionRepository(table),
        devices=DynamoDBDeviceRepository(table),
        hasher=PasswordHasher(),
        issuer=_current_issuer,
        policy=policies.auth_policy(),
        record_metric=record_outcome,
        mfa=mfa_login(),
        migration=user_migration(),
    )


def user_migration() -> UserMigration | None:
    """The Cognito pool users move over from, where the function is configured for one."""
    settings = load(UserPoolMigrationSettings)
    if not settings.migrate_from_user_pool_id:
        return None
    from adapters.cognito_user_pool import CognitoUserPool
    from domain.passwords import PasswordHasher
    from domain.user_migration import UserMigration

    return UserMigration(
        pool=CognitoUserPool(
            settings.migrate_from_user_pool_id, settings.migrate_from_user_pool_client_id
        ),
        users=user_repository(),
        login_state=login_state(),
        hasher=PasswordHasher(),
        metadata=metadata_policy(settings),
    )


# ---------------------------------------------------------------- multi-factor authentication
def mfa_key() -> bytes:
    """The key of sealed TOTP secrets and recovery-code hashes (domain/mfa_crypto.py)."""
    return _secret_bytes(load(MfaKeySettings).mfa_key_secret_arn)


@cache
def mfa_keys() -> MfaKeys:
    """Read on first use: the login function only starts challenges and never needs it."""
    from domain.mfa_crypto import MfaKeys

    return MfaKeys(mfa_key)


@cache
def mfa_challenges() -> DynamoDBMfaChallengeStore:
    from adapters.dynamodb_mfa_challenges import DynamoDBMfaChallengeStore

    return DynamoDBMfaChallengeStore(load(TableSettings).table_name)


def mfa_login() -> MfaLogin:
    """The second step of logins (the auth service counts wrong codes toward the throttle)."""
    from domain.mfa_login import MfaLogin, RecoveryCodeFactor, TotpFactor
    from domain.passkey_factor import PasskeyFactor

    return MfaLogin(
        users=user_repository(),
        challenges=mfa_challenges(),
        factors=[
            TotpFactor(mfa_keys()),
            RecoveryCodeFactor(mfa_keys()),
            PasskeyFactor(passkey_assertions),
        ],
        policy=lambda: load(MfaPolicySettings).mfa_policy,
        record_metric=record_outcome,
    )


@cache
def mfa_service() -> MfaService:
    from domain.mfa import MfaService

    settings = load(MfaSettings)
    return MfaService(
        users=user_repository(),
        keys=mfa_keys(),
        issuer=settings.mfa_issuer,
        step_up=recent_authentication().require,
        policy=settings.mfa_policy,
    )


# ---------------------------------------------------------------- account recovery
@cache
def recovery_service() -> AccountRecoveryService:
    from adapters.dynamodb_token_store import DynamoDBTokenStore
    from domain.account_recovery import AccountRecoveryService, RecoveryLimits
    from domain.passwords import PasswordHasher

    settings = load(RecoverySettings)
    minimum = settings.forgot_password_min_milliseconds
    return AccountRecoveryService(
        users=user_repository(),
        tokens=DynamoDBTokenStore(settings.table_name),
        mail_limiter=mail_limiter(),
        hasher=PasswordHasher(),
        token_key=mail_token_key,
        limits=RecoveryLimits(
            forgot_min_duration=timedelta(milliseconds=minimum),
            password_min_length=settings.password_min_length,
        ),
        record_metric=record_outcome,
        migration=user_migration(),
    )


# ---------------------------------------------------------------- passkeys
@cache
def passkey_repository() -> DynamoDBPasskeyRepository:
    from adapters.dynamodb_passkey_repository import DynamoDBPasskeyRepository
    from handlers.actors import request_actor
    from handlers.observability import logger

    return DynamoDBPasskeyRepository(
        load(TableSettings).table_name, request_id=logger.get_correlation_id, actor=request_actor
    )


def relying_party(settings: RelyingPartySettings) -> RelyingParty:
    from domain.passkey_ceremonies import RelyingParty

    return RelyingParty(
        id=settings.passkey_rp_id, name=settings.passkey_rp_name, origins=settings.passkey_origins
    )


@cache
def passkey_service() -> PasskeyService:
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from domain.passkey_service import PasskeyService
    from domain.passwords import PasswordHasher

    settings = load(PasskeySettings)
    return PasskeyService(
        users=user_repository(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=relying_party(settings),
        reauthentication=recent_authentication,
        unusable_password_hash=lambda: PasswordHasher().unusable_hash(),
        record_metric=record_outcome,
    )


@cache
def passkey_assertions() -> PasskeyAssertions:
    """Passkey sign-in, and POST /auth/mfa when its second factor is a passkey."""
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from domain.passkey_assertions import PasskeyAssertions

    settings = load(PasskeyAssertionSettings)
    return PasskeyAssertions(
        users=user_repository(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=relying_party(settings),
        record_metric=record_outcome,
    )


@cache
def passkey_sign_in() -> PasskeySignIn:
    """Only the sign-in function has the decoy key and the signing key."""
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from domain.passkey_sign_in import PasskeySignIn

    settings = load(PasskeySignInSettings)
    return PasskeySignIn(
        assertions=passkey_assertions(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=relying_party(settings),
        decoy_key=lambda: _secret_bytes(settings.passkey_decoy_secret_arn),
        start_session=lambda account, amr: auth_service().start_session(account, amr),
        record_metric=record_outcome,
    )


def _forget_objects_made_during_init() -> None:
    """After a SnapStart restore, the objects holding AWS clients or keys are made again."""
    for factory in (user_repository, user_service, public_keys, signing_keys, auth_service):
        factory.cache_clear()


on_restore(_forget_objects_made_during_init)
