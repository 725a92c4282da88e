"""Wires adapters into domain services from the function's settings (handlers/settings.py), once
per container.

Everything is imported inside the factories: a function loads only the adapters it uses."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from handlers.settings import (
    ListUsersSettings,
    MailTokenKeySettings,
    MetadataSettings,
    RecoverySettings,
    SessionSettings,
    SettingsError,
    TableSettings,
    TokenIssuerSettings,
    TokenSettingsEnv,
    TokenVerifierSettings,
    UserWriteSettings,
    load,
)

if TYPE_CHECKING:  # each function imports only what it uses (the authorizer: no boto3)
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from adapters.key_store import PublicKeySource, SigningKeySource
    from domain.account_recovery import AccountRecoveryService
    from domain.auth_service import AuthService
    from domain.metadata import MetadataPolicy
    from domain.tokens import TokenIssuer, TokenSettings
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
    from handlers.observability import logger

    settings = load(TableSettings)
    return DynamoDBUserRepository(
        settings.table_name,
        cursor_key=_cursor_key,
        request_id=logger.get_correlation_id,
        shards=settings.user_index_shards,
    )


@cache
def login_state() -> DynamoDBSessionRepository:
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository

    return DynamoDBSessionRepository(load(TableSettings).table_name)


@cache
def user_service() -> UserService:
    from domain.password_guard import PasswordGuard
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService

    hasher = PasswordHasher()
    return UserService(
        user_repository(),
        hasher,
        password_guard=PasswordGuard(login_state(), hasher),
        metadata=metadata_policy(load(UserWriteSettings)),
    )


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
# A lockout and a stolen refresh token (domain/auth_service.py's names): warnings, not routine.
WARNING_OUTCOMES = frozenset({"LoginThrottled", "RefreshReuseDetected"})


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
    return PublicKeySource(
        load(TokenVerifierSettings).jwks_parameter_name,
        settings.issuer,
        settings.audience,
        max_lifetime_seconds=settings.access_ttl_seconds,
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
    from domain.auth_service import AuthPolicy, AuthService
    from domain.passwords import PasswordHasher

    sessions = login_state()
    refresh_days = load(SessionSettings).refresh_token_ttl_days
    return AuthService(
        users=user_repository(),
        login_state=sessions,
        sessions=sessions,
        hasher=PasswordHasher(),
        issuer=_current_issuer,
        policy=AuthPolicy(refresh_ttl=timedelta(days=refresh_days)),
        record_metric=record_outcome,
    )


# ---------------------------------------------------------------- account recovery
@cache
def recovery_service() -> AccountRecoveryService:
    from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter
    from adapters.dynamodb_token_store import DynamoDBTokenStore
    from domain.account_recovery import AccountRecoveryService, RecoveryLimits
    from domain.passwords import PasswordHasher

    settings = load(RecoverySettings)
    minimum = settings.forgot_password_min_milliseconds
    return AccountRecoveryService(
        users=user_repository(),
        tokens=DynamoDBTokenStore(settings.table_name),
        limiter=DynamoDBRateLimiter(settings.table_name),
        hasher=PasswordHasher(),
        token_key=mail_token_key,
        limits=RecoveryLimits(forgot_min_duration=timedelta(milliseconds=minimum)),
        record_metric=record_outcome,
    )
