"""User models: what callers send, what is stored, and what anyone may see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from domain.email_address import MAX_EMAIL_LENGTH, normalize_email
from domain.metadata import METADATA_FIELDS
from domain.mfa_state import MfaSecrets
from domain.password_policy import LOWEST_MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH
from domain.recovery_tokens import IssuedToken, TokenPurpose
from domain.text import (
    document_pattern,
    refuse_control_characters,
    require_valid_unicode,
    require_valid_unicode_secret,
    visible_secret_pattern,
    visible_text_pattern,
)

Email = Annotated[
    str,
    Field(json_schema_extra={"format": "email", "maxLength": MAX_EMAIL_LENGTH}),
    AfterValidator(require_valid_unicode),
    AfterValidator(normalize_email),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(json_schema_extra=document_pattern(visible_text_pattern)),
    AfterValidator(refuse_control_characters),
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
TimeZone = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", max_length=64)
]
# SecretStr keeps passwords out of reprs and logs. The policy's checks live in
# domain.password_policy; the schema states what a schema can (lengths, characters).
Password = Annotated[
    SecretStr,
    Field(
        min_length=LOWEST_MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="A new password: at least the configured minimum (PasswordMinLength, "
        "default 12) and at most 256 characters once NFKC-normalized, not only "
        "whitespace, no control characters, not the email address, and not a commonly used or "
        "breached password (NIST SP 800-63B)",
        json_schema_extra=document_pattern(visible_secret_pattern),
    ),
    AfterValidator(require_valid_unicode_secret),
]
CurrentPassword = Annotated[
    SecretStr, Field(min_length=1, max_length=1024), AfterValidator(require_valid_unicode_secret)
]


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Origin(StrEnum):
    """How a user came to be: subscribers may skip welcome mails for people who did not sign up
    just now."""

    REGISTRATION = "registration"
    IMPORT = "import"
    """Loaded by ``userflow users import``."""
    MIGRATION = "migration"
    """Moved over from another user pool at their first login here (lazy migration)."""


PROFILE_FIELDS = ("phone", "locale", "timezone")
PUBLIC_FIELDS = (
    "id",
    "email",
    "email_verified",
    "name",
    *PROFILE_FIELDS,
    *METADATA_FIELDS,
    "passkey_count",
    "mfa_enabled",
    "roles",
    "status",
    "version",
    "created_at",
    "updated_at",
)


class _Strict(BaseModel):
    # defer_build, on every model here: a model's validator is built on its first use, so a
    # function builds those it uses, not all of them, while it starts.
    model_config = ConfigDict(extra="forbid", defer_build=True)


# Checked against the deployer's limits and schema by the use case (domain/metadata.py).
MetadataMap = Annotated[
    dict[str, Any],
    Field(
        description="Custom attributes the user may write: a JSON object within the deployment's "
        "limits (bytes, depth, keys)"
    ),
]
MetadataPatch = Annotated[
    dict[str, Any] | None,
    Field(
        description="Merged per key (RFC 7396 JSON Merge Patch): a key sent as null is deleted; "
        "null clears the whole map"
    ),
]


class Registration(_Strict):
    email: Email
    password: Password
    name: Name
    phone: Phone | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    metadata: MetadataMap | None = None


class UserPatch(_Strict):
    """Partial update; a profile field sent as null is cleared. Roles are never patchable."""

    # Email and name can be changed, never removed: null is refused, and not offered in the schema.
    email: Email | SkipJsonSchema[None] = None
    name: Name | SkipJsonSchema[None] = None
    phone: Phone | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    metadata: MetadataPatch = None
    app_metadata: Annotated[
        MetadataPatch, Field(description="As metadata; admins only (403 for anyone else)")
    ] = None
    password: Password | None = None
    current_password: CurrentPassword | None = Field(
        default=None,
        description="When users change their own password or email: required unless their "
        "session began with a login within the reauthentication window (else 403 "
        '"Reauthentication required")',
    )


class AccountDeletion(_Strict):
    """The optional body of deleting your own account."""

    current_password: CurrentPassword | None = Field(
        default=None,
        description="Required unless the session began with a login within the "
        'reauthentication window (else 403 "Reauthentication required")',
    )


class User(BaseModel):
    """The public view of a user: safe to return, log and publish."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    email: str
    email_verified: bool = False
    name: str
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Custom attributes the user writes"
    )
    app_metadata: dict[str, Any] = Field(
        default_factory=dict, description="Custom attributes admins write; the user reads them"
    )
    passkey_count: int = 0
    """How many passkeys the user has (domain/passkeys.py); never which, nor their keys."""
    mfa_enabled: bool = False
    """A second factor (TOTP) is on: login asks for it (domain/mfa.py)."""
    roles: tuple[Role, ...] = (Role.USER,)
    status: UserStatus = UserStatus.ACTIVE
    version: int = 1
    created_at: datetime
    updated_at: datetime


TOKEN_FIELDS = {
    TokenPurpose.VERIFY_EMAIL: "verify_token",
    TokenPurpose.RESET_PASSWORD: "reset_token",
}


UNUSABLE_PREFIX = "!"
"""Marks the stored hash of a user who has no password (passwordless, docs/api/passkeys.md)."""


def is_unusable_hash(encoded: str) -> bool:
    return encoded.startswith(UNUSABLE_PREFIX)


class UserAccount(BaseModel):
    """A user with the secrets and login state that never leave the service."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user: User
    password_hash: str = Field(repr=False)
    locked_until: datetime | None = None
    failed_logins: int = 0
    sessions_revoked_at: datetime | None = None
    session_generation: int = 0
    """Carried by every access token (``gen``); each revocation increments it, so tokens issued
    before it are refused exactly, with no clock comparison."""
    origin: Origin = Origin.REGISTRATION
    """Stored once, with the new user: its UserCreated event says it (domain/events.py)."""
    revoked_sessions: dict[str, datetime] = Field(default_factory=dict)
    """Sessions (refresh families) revoked one by one, each until the last access token it may
    have issued has expired: their tokens (``sid``) are refused, the user's others are not."""
    verify_token: IssuedToken | None = Field(default=None, repr=False)
    reset_token: IssuedToken | None = Field(default=None, repr=False)
    mfa: MfaSecrets = Field(default_factory=MfaSecrets, repr=False)
    """The second factor's stored state (domain/mfa.py); never public."""

    @property
    def has_password(self) -> bool:
        """False once the user went passwordless (domain/passwords.py, ``unusable_hash``)."""
        return not is_unusable_hash(self.password_hash)

    def token(self, purpose: TokenPurpose) -> IssuedToken | None:
        token: IssuedToken | None = getattr(self, TOKEN_FIELDS[purpose])
        return token

    def accepts_session(self, session_generation: int, family_id: str | None = None) -> bool:
        """Whether an access token of that generation and session still speaks for this user."""
        active = self.user.status == UserStatus.ACTIVE
        return (
            active
            and session_generation == self.session_generation
            and family_id not in self.revoked_sessions
        )

    def changed(self, now: datetime, **fields: object) -> UserAccount:
        """The account with ``fields`` of its public user changed, as its next version made at
        ``now``: every change subscribers see takes a new version (docs/events.md,
        "Ordering and duplicates")."""
        user = self.user.model_copy(
            update={**fields, "version": self.user.version + 1, "updated_at": now}
        )
        return self.model_copy(update={"user": user})

    def with_sessions_revoked(self, now: datetime) -> UserAccount:
        """Every refresh family made before ``now`` and every access token issued so far die."""
        return self.model_copy(
            update={"sessions_revoked_at": now, "session_generation": self.session_generation + 1}
        )


class UserPage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[User]
    next_cursor: str | None = None
