"""The template's policy parameters (docs/api/auth.md, "Policies"), read from the function's
environment into the domain's policy objects. Each reads only its own variables: a function loads
the policies it applies."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from handlers.settings import (
    MailLimitSettings,
    MetadataSettings,
    PasswordRuleSettings,
    ReauthenticationSettings,
    RelyingPartySettings,
    SessionSettings,
    SettingsError,
    SourceLimitSettings,
    ThrottleSettings,
    TokenSettingsEnv,
    load,
)

if TYPE_CHECKING:
    from domain.login_throttle import ThrottlePolicy
    from domain.mail_limits import MailLimits
    from domain.metadata import MetadataPolicy
    from domain.passkey_ceremonies import RelyingParty
    from domain.reauthentication import ReauthenticationPolicy
    from domain.sessions import AuthPolicy
    from domain.source_limits import SourceLimits
    from domain.tokens import TokenSettings


def throttle_policy() -> ThrottlePolicy:
    from domain.login_throttle import ThrottlePolicy

    settings = load(ThrottleSettings)
    return ThrottlePolicy(
        free_failures=settings.login_free_failures,
        base_delay=timedelta(seconds=settings.login_base_delay_seconds),
        max_delay=timedelta(seconds=settings.login_max_delay_seconds),
        reset_after=settings.login_failures_before_reset,
        device_lifetime=timedelta(days=settings.device_token_lifetime_days),
    )


def auth_policy() -> AuthPolicy:
    from domain.sessions import AuthPolicy

    settings = load(SessionSettings)
    return AuthPolicy(
        throttle=throttle_policy(),
        session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
        idle_timeout=timedelta(seconds=settings.session_idle_timeout_seconds),
        access_token_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )


def reauthentication_policy() -> ReauthenticationPolicy:
    """Users with MFA on also need a second factor in the session's ``amr``."""
    from domain.mfa_policy import has_second_factor
    from domain.reauthentication import ReauthenticationPolicy

    window = load(ReauthenticationSettings).reauthentication_window_seconds
    return ReauthenticationPolicy(
        window=timedelta(seconds=window), second_factor_required=has_second_factor
    )


def mail_limits() -> MailLimits:
    from domain.mail_limits import MailLimits

    settings = load(MailLimitSettings)
    return MailLimits(
        per_recipient=settings.mail_per_recipient_per_hour,
        per_source=settings.mail_per_source_per_hour,
    )


def source_limits() -> SourceLimits:
    from domain.source_limits import SourceLimits

    settings = load(SourceLimitSettings)
    return SourceLimits(
        requests=settings.source_request_limit,
        failures=settings.source_failure_limit,
        window=timedelta(seconds=settings.source_window_seconds),
    )


def password_min_length() -> int:
    return load(PasswordRuleSettings).password_min_length


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


@cache
def token_settings() -> TokenSettings:
    from domain.tokens import TokenSettings

    environment = load(TokenSettingsEnv)
    return TokenSettings(
        issuer=environment.issuer,
        audience=environment.audience,
        access_ttl_seconds=environment.access_token_ttl_seconds,
    )


def relying_party(settings: RelyingPartySettings) -> RelyingParty:
    from domain.passkey_ceremonies import RelyingParty

    return RelyingParty(
        id=settings.passkey_rp_id, name=settings.passkey_rp_name, origins=settings.passkey_origins
    )
