"""The adapters the functions' services stand on (handlers/dependencies.py wires them in): the
table's stores, the token keys and the MAC keys, from the function's settings, once per container.

Everything is imported inside the factories: a function loads only the adapters it uses."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from handlers.settings import (
    ListUsersSettings,
    MailTokenKeySettings,
    MfaKeySettings,
    TableSettings,
    TokenIssuerSettings,
    TokenVerifierSettings,
    TombstoneSettings,
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


def _cursor_key() -> bytes:
    from adapters.mac_keys import mac_key

    return mac_key(load(ListUsersSettings).cursor_secret_arn)


def mail_token_key() -> bytes:
    """The MAC key of recovery tokens (domain/recovery_tokens.py): verify, reset and mailer."""
    from adapters.mac_keys import mac_key

    return mac_key(load(MailTokenKeySettings).mail_token_secret_arn)


def mfa_key() -> bytes:
    """The key of sealed TOTP secrets and recovery-code hashes (domain/mfa_crypto.py)."""
    from adapters.mac_keys import mac_key

    return mac_key(load(MfaKeySettings).mfa_key_secret_arn)


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
def mfa_challenges() -> DynamoDBMfaChallengeStore:
    from adapters.dynamodb_mfa_challenges import DynamoDBMfaChallengeStore

    return DynamoDBMfaChallengeStore(load(TableSettings).table_name)


@cache
def passkey_repository() -> DynamoDBPasskeyRepository:
    from adapters.dynamodb_passkey_repository import DynamoDBPasskeyRepository
    from handlers.actors import request_actor
    from handlers.observability import logger

    return DynamoDBPasskeyRepository(
        load(TableSettings).table_name, request_id=logger.get_correlation_id, actor=request_actor
    )


@cache
def public_keys() -> PublicKeySource:
    from adapters.key_store import PublicKeySource
    from handlers.policies import token_settings

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
    from handlers.policies import token_settings

    return SigningKeySource(load(TokenIssuerSettings).signing_key_secret_arn, token_settings())


def _forget_objects_made_during_init() -> None:
    """After a SnapStart restore, the objects holding AWS clients or keys are made again."""
    for factory in (user_repository, public_keys, signing_keys):
        factory.cache_clear()


on_restore(_forget_objects_made_during_init)
