"""Each function's environment as a typed, validated model: the one place handlers read it.

The template (``template.yaml``, ``Globals`` merged) sets these variables; a test checks that every
function's ``Environment`` satisfies its model in :data:`FUNCTION_SETTINGS`. A missing or invalid
variable fails the first use in the container with :class:`SettingsError`, which names it, instead
of a ``KeyError`` deep inside an adapter. Only pydantic is imported (the domain loads it anyway).
"""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NonEmpty = Field(min_length=1)


class FunctionSettings(BaseModel):
    """Fields are the variables' names in lower case; other variables are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=str.upper)


class TableSettings(FunctionSettings):
    table_name: str = NonEmpty
    user_index_shards: int = Field(default=4, ge=1, le=64)
    """Partitions per index order (template parameter UserIndexShards): every user write
    computes its index keys with it."""


class MetadataSettings(FunctionSettings):
    """Custom attributes' limits and optional JSON Schemas (template parameters Metadata*)."""

    metadata_max_bytes: int = Field(default=4096, ge=2)
    metadata_max_depth: int = Field(default=5, ge=1)
    metadata_max_keys: int = Field(default=50, ge=0)
    metadata_schema: str = ""
    app_metadata_schema: str = ""


class UserWriteSettings(TableSettings, MetadataSettings):
    """Functions that write custom attributes (registration, PATCH)."""


class TokenSettingsEnv(FunctionSettings):
    """What verifies (and issues) access tokens."""

    issuer: str = NonEmpty
    audience: str = NonEmpty
    access_token_ttl_seconds: int = Field(default=900, gt=0)


class TokenVerifierSettings(TokenSettingsEnv):
    """The authorizer and the JWKS route: public keys only, no table."""

    jwks_parameter_name: str = NonEmpty


class ListUsersSettings(TableSettings):
    cursor_secret_arn: str = NonEmpty


class SessionSettings(TableSettings):
    """Functions that build the auth service (logout: without issuing tokens)."""

    refresh_token_ttl_days: int = Field(default=30, gt=0)


class TokenIssuerSettings(SessionSettings, TokenSettingsEnv):
    """Login and refresh: the only functions that read the signing key."""

    signing_key_secret_arn: str = NonEmpty


class MailTokenKeySettings(FunctionSettings):
    """Recovery tokens are MAC'd with the mail token key (domain/recovery_tokens.py)."""

    mail_token_secret_arn: str = NonEmpty


class RecoverySettings(TableSettings, MailTokenKeySettings):
    """Email verification and password recovery (one service)."""

    forgot_password_min_milliseconds: int = Field(default=400, ge=0)


class MailerSettings(MailTokenKeySettings):
    sender_email: str = NonEmpty
    configuration_set: str = NonEmpty
    frontend_url: str = NonEmpty


class KeyRotationSettings(FunctionSettings):
    jwks_parameter_name: str = NonEmpty


class UserStreamSettings(FunctionSettings):
    event_bus_name: str = NonEmpty
    poison_queue_url: str = NonEmpty


# Handler module -> the model of its function's environment (the template test walks these).
FUNCTION_SETTINGS: dict[str, type[FunctionSettings]] = {
    "handlers.handle_create_user": UserWriteSettings,
    "handlers.handle_get_user": TableSettings,
    "handlers.handle_update_user": UserWriteSettings,
    "handlers.handle_delete_user": TableSettings,
    "handlers.handle_list_users": ListUsersSettings,
    "handlers.handle_account_status": SessionSettings,
    "handlers.handle_logout": SessionSettings,
    "handlers.handle_authorize": TokenVerifierSettings,
    "handlers.handle_jwks": TokenVerifierSettings,
    "handlers.handle_login": TokenIssuerSettings,
    "handlers.handle_refresh_token": TokenIssuerSettings,
    "handlers.handle_email_verification": RecoverySettings,
    "handlers.handle_password_recovery": RecoverySettings,
    "handlers.handle_mailer": MailerSettings,
    "handlers.handle_rotate_signing_key": KeyRotationSettings,
    "handlers.handle_user_stream": UserStreamSettings,
}

Settings = TypeVar("Settings", bound=FunctionSettings)


class SettingsError(RuntimeError):
    """The function's environment does not satisfy its settings model."""


def load(model: type[Settings], environment: dict[str, str] | None = None) -> Settings:
    """``model`` read from ``environment`` (default: the process's); raises :class:`SettingsError`
    naming every missing or invalid variable."""
    values = dict(os.environ if environment is None else environment)
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors(include_url=False, include_input=False)
        )
        raise SettingsError(f"{model.__name__}: invalid environment: {problems}") from None
