"""Wires adapters into domain services from the function's environment, once per container."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from adapters.dynamodb_session_repository import DynamoDBSessionRepository
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_service import UserService

if TYPE_CHECKING:  # auth modules load JWT/crypto code: imported only by the functions using them
    from adapters.key_store import PublicKeySource, SigningKeySource
    from domain.auth_service import AuthService
    from domain.tokens import TokenIssuer, TokenSettings


def _cursor_key() -> bytes:
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(os.environ["CURSOR_SECRET_ARN"], max_age=300)).encode()


@cache
def user_repository() -> DynamoDBUserRepository:
    from handlers.observability import logger

    return DynamoDBUserRepository(
        os.environ["TABLE_NAME"], cursor_key=_cursor_key, request_id=logger.get_correlation_id
    )


@cache
def login_state() -> DynamoDBSessionRepository:
    return DynamoDBSessionRepository(os.environ["TABLE_NAME"])


@cache
def user_service() -> UserService:
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
    return signing_keys()()


@cache
def auth_service() -> AuthService:
    from domain.auth_service import AuthPolicy, AuthService

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
