"""What the auth endpoints accept and return, and the stored shape of refresh sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from domain.email_address import MAX_EMAIL_LENGTH, require_valid_email
from domain.text import require_valid_unicode, require_valid_unicode_secret
from domain.users import Password

# Bounds only stop oversized input early; any wrong value gets the same 401. SecretStr keeps
# passwords and refresh tokens out of reprs and logs.
LoginEmail = Annotated[
    str, StringConstraints(min_length=1, max_length=320), AfterValidator(require_valid_unicode)
]
LoginPassword = Annotated[
    SecretStr, Field(min_length=1, max_length=1024), AfterValidator(require_valid_unicode_secret)
]
RefreshTokenText = Annotated[
    SecretStr, Field(min_length=1, max_length=256), AfterValidator(require_valid_unicode_secret)
]
DeviceTokenText = RefreshTokenText  # the same kind of opaque random token


class _Strict(BaseModel):
    # defer_build: validators are built on first use (a function builds those it uses).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class LoginRequest(_Strict):
    email: LoginEmail
    password: LoginPassword
    device_token: DeviceTokenText | None = Field(
        default=None,
        description="The `device_token` an earlier login from this device returned: failures "
        "of others then never throttle this device's logins. Optional; one that is unknown, "
        "expired, revoked or another account's is ignored",
    )


class RefreshRequest(_Strict):
    refresh_token: RefreshTokenText


class LogoutRequest(_Strict):
    """One session (``refresh_token``) or all of them (``"all": true``), or both."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["refresh_token"]},
                {"required": ["all"], "properties": {"all": {"const": True}}},
            ]
        }
    )

    refresh_token: RefreshTokenText | SkipJsonSchema[None] = None
    # Strict: "yes" or 1 is not a boolean, least of all for "sign out everywhere".
    all: StrictBool = Field(default=False, description="Sign out of every session of the caller")

    @model_validator(mode="after")
    def _names_sessions(self) -> LogoutRequest:
        if self.refresh_token is None and not self.all:
            raise ValueError("refresh_token is required unless all is true")
        return self


class TokenPair(BaseModel):
    model_config = ConfigDict(defer_build=True)

    access_token: str = Field(
        description="An ES256 JWT (header `typ: at+jwt`, RFC 9068) with claims `sub`, `iss`, "
        "`aud`, `exp`, `iat`, `jti`, `roles`, `gen` (session generation), `sid` (the session), "
        "`auth_time` (the login that started the session: refresh keeps it) and `amr` "
        '(RFC 8176 methods of that login, e.g. `["pwd"]`)'
    )
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")


PASSWORD_METHOD = "pwd"  # noqa: S105 - a method name, not a secret
"""RFC 8176's ``amr`` value for a password login."""


class LoginTokens(TokenPair):
    device_token: str = Field(
        description="Opaque, per user and device, long-lived: send it back in later logins "
        "from this device (docs/api/auth.md#login-throttling). Signing out everywhere, a password "
        "change or reset revokes it"
    )


@dataclass(frozen=True)
class SessionFamily:
    """Every refresh token descending from one login; revoked as a whole. ``auth_time`` and
    ``amr`` are the login's: every access token of the family carries them, refresh included."""

    family_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    auth_time: datetime
    amr: tuple[str, ...] = (PASSWORD_METHOD,)
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class RefreshRecord:
    """A refresh token, known only by its SHA-256 hash."""

    token_hash: str
    user_id: str
    family_id: str
    expires_at: datetime
    rotated_at: datetime | None = None


# Account recovery. A token of any content gets the same 400 (the bound only stops oversized
# input early); a missing field or a malformed address is a 422.
RecoveryTokenText = Annotated[SecretStr, Field(max_length=1024)]


class VerifyEmailRequest(_Strict):
    token: RecoveryTokenText


# Kept as typed once valid: the account is looked up by the address's canonical form and, if it
# was stored before the identity rules, by its former one (``lookup_forms``), as at login.
TypedEmail = Annotated[
    str,
    Field(json_schema_extra={"format": "email", "maxLength": MAX_EMAIL_LENGTH}),
    AfterValidator(require_valid_unicode),
    AfterValidator(require_valid_email),
]


class ForgotPasswordRequest(_Strict):
    email: TypedEmail


class ResetPasswordRequest(_Strict):
    token: RecoveryTokenText
    password: Password
