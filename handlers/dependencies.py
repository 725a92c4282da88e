"""Wires the function's adapters (handlers/stores.py) into domain services, from its settings
(handlers/settings.py) and policies (handlers/policies.py), once per container.

Everything is imported inside the factories: a function loads only what it uses."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from handlers import policies
from handlers.observability import record_outcome
from handlers.settings import (
    MetadataSettings,
    MfaPolicySettings,
    MfaSettings,
    PasskeyAssertionSettings,
    PasskeySettings,
    PasskeySignInSettings,
    RecoverySettings,
    TableSettings,
    UserPoolMigrationSettings,
    load,
)
from handlers.snapstart import on_restore

if TYPE_CHECKING:
    from domain.account_recovery import AccountRecoveryService
    from domain.admin_service import AdminService
    from domain.auth_service import AuthService
    from domain.mail_limits import MailLimiter
    from domain.mfa import MfaService
    from domain.mfa_crypto import MfaKeys
    from domain.mfa_login import MfaLogin
    from domain.passkey_assertions import PasskeyAssertions
    from domain.passkey_service import PasskeyService
    from domain.passkey_sign_in import PasskeySignIn
    from domain.password_guard import PasswordGuard
    from domain.reauthentication import RecentAuthentication
    from domain.source_limits import SourceLimiter, SourceLimits
    from domain.tokens import TokenIssuer
    from domain.user_migration import UserMigration
    from domain.user_service import UserService


@cache
def password_guard() -> PasswordGuard:
    from domain.password_guard import PasswordGuard
    from domain.passwords import PasswordHasher
    from handlers.stores import login_state

    return PasswordGuard(login_state(), PasswordHasher(), policies.throttle_policy())


@cache
def recent_authentication() -> RecentAuthentication:
    """The rule for dangerous operations; only their functions are configured for it."""
    from domain.reauthentication import RecentAuthentication

    return RecentAuthentication(password_guard(), policies.reauthentication_policy())


@cache
def mail_limiter() -> MailLimiter:
    from domain.mail_limits import MailLimiter
    from handlers.stores import rate_limiter

    return MailLimiter(rate_limiter(), policies.mail_limits(), record_metric=record_outcome)


def source_limiter() -> SourceLimiter:
    """Per-source limits of the function's unauthenticated route(s), as its environment sets
    them (read per request: a few microseconds; functions sharing a process keep their own)."""
    return _source_limiter(policies.source_limits())


@cache
def _source_limiter(limits: SourceLimits) -> SourceLimiter:
    from domain.source_limits import SourceLimiter
    from handlers.stores import rate_limiter

    return SourceLimiter(rate_limiter(), limits)


@cache
def user_service() -> UserService:
    """Functions that never set a password or mail anyone never read those policies."""
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService
    from handlers.stores import user_repository

    return UserService(
        user_repository(),
        PasswordHasher(),
        password_guard=password_guard(),
        recent_authentication=recent_authentication,
        mail_limiter=mail_limiter(),
        password_min_length=policies.password_min_length(),
        metadata=policies.metadata_policy(load(MetadataSettings)),
    )


@cache
def admin_service() -> AdminService:
    """What only admins do through the API (list users, disable or enable one)."""
    from domain.admin_service import AdminService
    from handlers.stores import user_repository

    return AdminService(user_repository())


# ---------------------------------------------------------------- authentication
def _current_issuer() -> TokenIssuer:
    """Resolved per call: functions that never issue tokens (logout) never need the secret."""
    from handlers.stores import signing_keys

    return signing_keys().current_issuer()


@cache
def auth_service() -> AuthService:
    from adapters.dynamodb_devices import DynamoDBDeviceRepository
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository
    from domain.auth_service import AuthService
    from domain.passwords import PasswordHasher
    from handlers.stores import login_state, user_repository

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
    from handlers.stores import login_state, user_repository

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
        metadata=policies.metadata_policy(settings),
    )


# ---------------------------------------------------------------- multi-factor authentication
@cache
def mfa_keys() -> MfaKeys:
    """Read on first use: the login function only starts challenges and never needs it."""
    from domain.mfa_crypto import MfaKeys
    from handlers.stores import mfa_key

    return MfaKeys(mfa_key)


def mfa_login() -> MfaLogin:
    """The second step of logins (the auth service counts wrong codes toward the throttle)."""
    from domain.mfa_login import MfaLogin, RecoveryCodeFactor, TotpFactor
    from domain.passkey_factor import PasskeyFactor
    from handlers.stores import mfa_challenges, user_repository

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
    from handlers.stores import user_repository

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
    from handlers.stores import mail_token_key, user_repository

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
def passkey_service() -> PasskeyService:
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from domain.passkey_service import PasskeyService
    from domain.passwords import PasswordHasher
    from handlers.stores import passkey_repository, user_repository

    settings = load(PasskeySettings)
    return PasskeyService(
        users=user_repository(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=policies.relying_party(settings),
        reauthentication=recent_authentication,
        unusable_password_hash=lambda: PasswordHasher().unusable_hash(),
        record_metric=record_outcome,
    )


@cache
def passkey_assertions() -> PasskeyAssertions:
    """Passkey sign-in, and POST /auth/mfa when its second factor is a passkey."""
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from domain.passkey_assertions import PasskeyAssertions
    from handlers.stores import passkey_repository, user_repository

    settings = load(PasskeyAssertionSettings)
    return PasskeyAssertions(
        users=user_repository(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=policies.relying_party(settings),
        record_metric=record_outcome,
    )


@cache
def passkey_sign_in() -> PasskeySignIn:
    """Only the sign-in function has the decoy key and the signing key."""
    from adapters.dynamodb_challenge_store import DynamoDBChallengeStore
    from adapters.mac_keys import mac_key
    from domain.passkey_sign_in import PasskeySignIn
    from handlers.stores import passkey_repository

    settings = load(PasskeySignInSettings)
    return PasskeySignIn(
        assertions=passkey_assertions(),
        passkeys=passkey_repository(),
        challenges=DynamoDBChallengeStore(settings.table_name),
        relying_party=policies.relying_party(settings),
        decoy_key=lambda: mac_key(settings.passkey_decoy_secret_arn),
        start_session=lambda account, amr: auth_service().start_session(account, amr),
        record_metric=record_outcome,
    )


def _forget_objects_made_during_init() -> None:
    """After a SnapStart restore, the objects holding AWS clients or keys are made again."""
    for factory in (user_service, auth_service):
        factory.cache_clear()


on_restore(_forget_objects_made_during_init)
