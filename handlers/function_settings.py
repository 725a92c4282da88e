"""Each function's settings model: the variables its template ``Environment`` must set.

A function loads only the models of what it uses (handlers/settings.py); a test walks
:data:`FUNCTION_SETTINGS` to check that every function's ``Environment`` (``Globals`` merged)
satisfies all of them at once, and each policy's parameter reaches the functions applying it.
"""

from __future__ import annotations

from handlers.settings import (
    AuthorizerSettings,
    DiscoverySettings,
    FunctionSettings,
    KeyRotationSettings,
    ListUsersSettings,
    MailerSettings,
    MailLimitSettings,
    MetadataSettings,
    MfaKeySettings,
    MfaPolicySettings,
    MfaSettings,
    PasskeyAssertionSettings,
    PasskeySettings,
    PasskeySignInSettings,
    PasswordRuleSettings,
    ReauthenticationSettings,
    RecoverySettings,
    SessionSettings,
    SourceLimitSettings,
    TableSettings,
    ThrottleSettings,
    TokenIssuerSettings,
    TokenVerifierSettings,
    TombstoneSettings,
    UserPoolMigrationSettings,
    UserStreamSettings,
    WebhookSettings,
)


class RegistrationSettings(
    SourceLimitSettings, ThrottleSettings, PasswordRuleSettings, MailLimitSettings, MetadataSettings
):
    """POST /users: a replayed registration proves its password like a login."""


class UpdateUserSettings(
    ReauthenticationSettings, PasswordRuleSettings, MailLimitSettings, MetadataSettings
):
    """PATCH /users/{id}: email and password changes, custom attributes."""


class PasswordRecoverySettings(RecoverySettings, UserPoolMigrationSettings):
    """Forgot-password may move a user over from the pool first."""


class LoginSettings(TokenIssuerSettings, MfaPolicySettings, UserPoolMigrationSettings):
    """POST /auth/login: checks the password, then issues tokens or asks for a second factor."""


class MfaLoginSettings(TokenIssuerSettings, MfaKeySettings, PasskeyAssertionSettings):
    """POST /auth/mfa: checks a second factor (a passkey too), then issues tokens."""


class DeleteUserSettings(ReauthenticationSettings, TombstoneSettings):
    """DELETE /users/{id}: leaves a tombstone (adapters/tombstones.py)."""


# Handler module -> the model of its function's environment (the template test walks these).
FUNCTION_SETTINGS: dict[str, type[FunctionSettings]] = {
    "handlers.handle_create_user": RegistrationSettings,
    "handlers.handle_get_user": TableSettings,
    "handlers.handle_update_user": UpdateUserSettings,
    "handlers.handle_delete_user": DeleteUserSettings,
    "handlers.handle_list_users": ListUsersSettings,
    "handlers.handle_account_status": SessionSettings,
    "handlers.handle_logout": SessionSettings,
    "handlers.handle_authorize": AuthorizerSettings,
    "handlers.handle_jwks": TokenVerifierSettings,
    "handlers.handle_openid_configuration": DiscoverySettings,
    "handlers.handle_login": LoginSettings,
    "handlers.handle_mfa": MfaSettings,
    "handlers.handle_mfa_login": MfaLoginSettings,
    "handlers.handle_refresh_token": TokenIssuerSettings,
    "handlers.handle_email_verification": RecoverySettings,
    "handlers.handle_password_recovery": PasswordRecoverySettings,
    "handlers.handle_mailer": MailerSettings,
    "handlers.handle_passkeys": PasskeySettings,
    "handlers.handle_passkey_sign_in": PasskeySignInSettings,
    "handlers.handle_rotate_signing_key": KeyRotationSettings,
    "handlers.handle_user_stream": UserStreamSettings,
    "handlers.handle_webhook_delivery": WebhookSettings,
    "handlers.handle_pre_traffic": FunctionSettings,  # reads only its event
}
