"""Wires adapters into domain services from the function's environment, once per container.

Everything is imported inside the factories: a function loads only the adapters it uses."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # each function imports only what it uses (the authorizer: no boto3)
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from adapters.key_store import PublicKeySource, SigningKeySource
    from domain.account_recovery import AccountRecoveryService
    from domain.auth_service import AuthService
    from domain.tokens import TokenIssuer, TokenSettings
    from domain.user_service import UserService


def _secret_bytes(variable: str) -> bytes:
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(os.environ[variable], max_age=300)).encode()


def _cursor_key() -> bytes:
    return _secret_bytes("CURSOR_SECRET_ARN")


def mail_token_key() -> bytes:
    """The MAC key of recovery tokens (domain/recovery_tokens.py): verify, reset and mailer."""
    return _secret_bytes("MAIL_TOKEN_SECRET_ARN")


@cache
def user_repository() -> DynamoDBUserRepository:
    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from handlers.observability import logger

    return DynamoDBUserRepository(
        os.environ["TABLE_NAME"], cursor_key=_cursor_key, request_id=logger.get_correlation_id
    )


@cache
def login_state() -> DynamoDBSessionRepository:
    from adapters.dynamodb_session_repository import DynamoDBSessionRepository

    return DynamoDBSessionRepository(os.environ["TABLE_NAME"])


@cache
def user_service() -> UserService:
    from domain.password_guard import PasswordGuard
    from domain.passwords import PasswordHasher
    from domain.user_service import UserService

    hasher = PasswordHasher()
    return UserService(
        user_repository(), hasher, password_guard=PasswordGuard(login_state(), hasher)
    )


# ---------------------------------------------------------------- authentication
def _record_metric(name: str) -> None:
    from handlers.observability import metrics

    metrics.add_metric(name=name, unit="Count", value=1)


@cache
def token_settings() -> TokenSettings:
    from domain.tokens import TokenSettings

    return TokenSettings(
        issuer=os.environ["ISSUER"],
        audience=os.environ["AUDIENCE"],
        access_ttl_seconds=int(os.environ.get("ACCESS_TOKEN_TTL_SECONDS", "900")),
    )


@cache
def public_keys() -> PublicKeySource:
    from adapters.key_store import PublicKeySource

    settings = token_settings()
    return PublicKeySource(
        os.environ["JWKS_PARAMETER_NAME"],
        settings.issuer,
        settings.audience,
        max_lifetime_seconds=settings.access_ttl_seconds,
    )


@cache
def signing_keys() -> SigningKeySource:
    """Only login and refresh have (and may read) the signing key secret."""
    from adapters.key_store import SigningKeySource

    return SigningKeySource(os.environ["SIGNING_KEY_SECRET_ARN"], token_settings())


def _current_issuer() -> TokenIssuer:
    """Resolved per call: functions that never issue tokens (logout) never need the secret."""
    return signing_keys().current_issuer()


@cache
def auth_service() -> AuthService:
    from domain.auth_service import AuthPolicy, AuthService
    from domain.passwords import PasswordHasher

    sessions = login_state()
    refresh_days = int(os.environ.get("REFRESH_TOKEN_TTL_DAYS", "30"))
    return AuthService(
        users=user_repository(),
        login_state=sessions,
        sessions=sessions,
        hasher=PasswordHasher(),
        issuer=_current_issuer,
        policy=AuthPolicy(refresh_ttl=timedelta(days=refresh_days)),
        record_metric=_record_metric,
    )


# ---------------------------------------------------------------- account recovery
@cache
def recovery_service() -> AccountRecoveryService:
    from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter
    from adapters.dynamodb_token_store import DynamoDBTokenStore
    from domain.account_recovery import AccountRecoveryService, RecoveryLimits
    from domain.passwords import PasswordHasher

    minimum = int(os.environ.get("FORGOT_PASSWORD_MIN_MILLISECONDS", "400"))
    return AccountRecoveryService(
        users=user_repository(),
        tokens=DynamoDBTokenStore(os.environ["TABLE_NAME"]),
        limiter=DynamoDBRateLimiter(os.environ["TABLE_NAME"]),
        hasher=PasswordHasher(),
        token_key=mail_token_key,
        limits=RecoveryLimits(forgot_min_duration=timedelta(milliseconds=minimum)),
        record_metric=_record_metric,
    )
