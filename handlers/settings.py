"""Each function's environment as a typed, validated model: the one place handlers read it.

The template (``template.yaml``, ``Globals`` merged) sets these variables; a test checks that every
function's ``Environment`` satisfies its model (handlers/function_settings.py). A missing or invalid
variable fails the first use in the container with :class:`SettingsError`, which names it, instead
of a ``KeyError`` deep inside an adapter. Only pydantic (and the MFA policy's enum, which needs
nothing else) is imported.
"""

from __future__ import annotations

import os
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.mfa_policy import MfaPolicy

NonEmpty = Field(min_length=1)


class FunctionSettings(BaseModel):
    """Fields are the variables' names in lower case; other variables are ignored. A model's
    validator is built when it is first loaded: a function loads one of them."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", alias_generator=str.upper, defer_build=True
    )


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


class TombstoneSettings(FunctionSettings):
    """How long a deleted user's tombstone is kept (template parameter TombstoneRetentionDays;
    set on the function that deletes users, read when it first needs its repository)."""

    tombstone_retention_days: int = Field(default=35, ge=1, le=365)


class AccessTokenLifetime(FunctionSettings):
    access_token_ttl_seconds: int = Field(default=900, gt=0)


class TokenSettingsEnv(AccessTokenLifetime):
    """What verifies (and issues) access tokens."""

    issuer: str = NonEmpty
    audience: str = NonEmpty


# How long verifiers may cache the JWKS: template parameter JwksCacheSeconds (at most 300 s, the
# Parameters and Secrets extension's limit). Key rotation publishes a key this long before use.
JwksCacheSeconds = Field(default=300, ge=0, le=300)


class TokenVerifierSettings(TokenSettingsEnv):
    """The authorizer and the JWKS route: public keys only, no table."""

    jwks_parameter_name: str = NonEmpty
    jwks_cache_seconds: int = JwksCacheSeconds


class DiscoverySettings(FunctionSettings):
    """GET /.well-known/openid-configuration: the issuer; verifiers may cache the document this
    long (it changes only with the stage's issuer or the API's domain)."""

    issuer: str = NonEmpty
    discovery_cache_seconds: int = Field(default=3600, ge=0)


class ThrottleSettings(FunctionSettings):
    """Functions that check a stored password (domain/login_throttle.py). Defaults: the
    template's (a test checks that each function that applies a policy gets its parameter)."""

    login_free_failures: int = Field(default=5, ge=1)
    login_base_delay_seconds: int = Field(default=30, gt=0)
    login_max_delay_seconds: int = Field(default=900, gt=0)
    login_failures_before_reset: int = Field(default=100, ge=2, le=100)
    device_token_lifetime_days: int = Field(default=365, gt=0)


class ReauthenticationSettings(TableSettings, ThrottleSettings):
    """Functions whose operations need recent authentication (domain/reauthentication.py)."""

    reauthentication_window_seconds: int = Field(ge=0)


class PasswordRuleSettings(FunctionSettings):
    """Functions that set a password."""

    password_min_length: int = Field(default=12, ge=8, le=256)


class MailLimitSettings(FunctionSettings):
    """Functions that mail (domain/mail_limits.py)."""

    mail_per_recipient_per_hour: int = Field(default=3, ge=1)
    mail_per_source_per_hour: int = Field(default=30, ge=1)


class SourceLimitSettings(TableSettings):
    """Functions behind unauthenticated routes (domain/source_limits.py): the request limit is
    the function's own route's (or routes')."""

    source_request_limit: int = Field(ge=1)
    source_failure_limit: int = Field(default=20, ge=1)
    source_window_seconds: int = Field(default=900, ge=1)


class ListUsersSettings(TableSettings):
    cursor_secret_arn: str = NonEmpty


class SessionSettings(TableSettings, ThrottleSettings, AccessTokenLifetime):
    """Functions that build the auth service (logout: without issuing tokens)."""

    session_lifetime_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    session_idle_timeout_seconds: int = Field(default=7 * 24 * 3600, gt=0)


class TokenIssuerSettings(SessionSettings, TokenSettingsEnv, SourceLimitSettings):
    """Login and refresh: the only functions that read the signing key."""

    signing_key_secret_arn: str = NonEmpty


class MailTokenKeySettings(FunctionSettings):
    """Recovery tokens are MAC'd with the mail token key (domain/recovery_tokens.py)."""

    mail_token_secret_arn: str = NonEmpty


class RecoverySettings(
    SourceLimitSettings, MailTokenKeySettings, MailLimitSettings, PasswordRuleSettings
):
    """Email verification and password recovery (one service)."""

    forgot_password_min_milliseconds: int = Field(default=400, ge=0)


class UserPoolMigrationSettings(MetadataSettings):
    """The Cognito user pool users move over from at first login or forgot-password (template
    parameters MigrateFromUserPool*; empty: off). Migrated users' custom attributes are
    checked against the metadata limits."""

    migrate_from_user_pool_id: str = ""
    migrate_from_user_pool_client_id: str = ""

    @model_validator(mode="after")
    def _both_or_neither(self) -> UserPoolMigrationSettings:
        if bool(self.migrate_from_user_pool_id) != bool(self.migrate_from_user_pool_client_id):
            raise ValueError("MIGRATE_FROM_USER_POOL_ID and _CLIENT_ID go together")
        return self


class RelyingPartySettings(FunctionSettings):
    """This service as WebAuthn knows it (template parameters PasskeyRpId, PasskeyRpName,
    PasskeyOrigins): credentials are bound to the RP ID, ceremonies run on the origins."""

    passkey_rp_id: str = NonEmpty
    passkey_rp_name: str = NonEmpty
    passkey_origins: tuple[str, ...] = Field(min_length=1)

    @field_validator("passkey_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return tuple(filter(None, value.split(","))) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _origins_on_the_rp_id(self) -> RelyingPartySettings:
        """WebAuthn refuses a ceremony whose origin is not on the RP ID (the domain or a
        subdomain), and runs only in secure contexts: https, or http on localhost."""
        for origin in self.passkey_origins:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            secure = parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")
            on_rp_id = host == self.passkey_rp_id or host.endswith(f".{self.passkey_rp_id}")
            if not (secure and on_rp_id) or parts.path not in ("", "/") or parts.query:
                raise ValueError(
                    f"origin {origin!r} is not a secure origin on the RP ID {self.passkey_rp_id!r}"
                )
        return self


class PasskeySettings(ReauthenticationSettings, RelyingPartySettings):
    """Registering, listing and removing passkeys, and the password: dangerous operations."""


class PasskeyAssertionSettings(TableSettings, RelyingPartySettings):
    """Verifying a passkey assertion: passkey sign-in, and a passkey as the second factor."""


class PasskeySignInSettings(TokenIssuerSettings, PasskeyAssertionSettings):
    """Signing in with a passkey: issues tokens; decoy credential ids need a secret key."""

    passkey_decoy_secret_arn: str = NonEmpty


class MfaKeySettings(TableSettings):
    """The key of sealed TOTP secrets and recovery-code hashes, the issuer authenticator apps
    show, and the policy (domain/mfa_policy.py)."""

    mfa_key_secret_arn: str = NonEmpty
    mfa_issuer: str = NonEmpty
    mfa_policy: MfaPolicy = MfaPolicy.OPTIONAL


class MfaSettings(MfaKeySettings, ReauthenticationSettings):
    """The MFA management routes: managing MFA needs recent authentication."""


class MfaPolicySettings(FunctionSettings):
    """Login and its second step: a user the policy covers is asked for any factor enrolled,
    a passkey included (domain/mfa_login.py)."""

    mfa_policy: MfaPolicy


class AuthorizerSettings(TokenVerifierSettings):
    mfa_policy: MfaPolicy = MfaPolicy.OPTIONAL


class MailerSettings(TableSettings, MailTokenKeySettings):
    sender_email: str = NonEmpty
    configuration_set: str = NonEmpty
    frontend_url: str = NonEmpty


class KeyRotationSettings(FunctionSettings):
    jwks_parameter_name: str = NonEmpty
    jwks_cache_seconds: int = JwksCacheSeconds


class UserStreamSettings(FunctionSettings):
    event_bus_name: str = NonEmpty
    poison_queue_url: str = NonEmpty


class WebhookSettings(TableSettings):
    """The webhook delivery function (domain/webhooks.py)."""

    stage: str = NonEmpty
    webhook_queue_url: str = NonEmpty
    webhook_dead_letter_queue_url: str = NonEmpty
    webhook_secrets_arn: str = NonEmpty
    webhook_retry_schedule: str = Field(default="5,300,1800,7200,18000,36000,36000", min_length=1)
    webhook_disable_after_hours: int = Field(default=120, ge=1)

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        from domain.webhooks import parse_schedule

        parse_schedule(value)
        return value


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
