"""User models: what callers send, what is stored, and what anyone may see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from domain.email_address import normalize_email
from domain.text import (
    refuse_control_characters,
    require_valid_unicode,
    require_valid_unicode_secret,
)

Email = Annotated[str, AfterValidator(require_valid_unicode), AfterValidator(normalize_email)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(refuse_control_characters),
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
TimeZone = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", max_length=64)
]
# SecretStr keeps passwords out of reprs and logs; the policy's real checks live in
# domain.passwords, the bound here only stops oversized input early.
Password = Annotated[
    SecretStr, Field(min_length=1, max_length=1024), AfterValidator(require_valid_unicode_secret)
]


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Status(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


PROFILE_FIELDS = ("phone", "locale", "timezone")
PUBLIC_FIELDS = (
    "id",
    "email",
    "name",
    *PROFILE_FIELDS,
    "roles",
    "status",
    "version",
    "created_at",
    "updated_at",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Registration(_Strict):
    email: Email
    password: Password
    name: Name
    phone: Phone | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None


class UserPatch(_Strict):
    """Partial update; a profile field sent as null is cleared. Roles are never patchable."""

    email: Email | None = None
    name: Name | None = None
    phone: Phone | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    password: Password | None = None
    current_password: Password | None = Field(
        default=None, description="Required when users change their own password"
    )


class User(BaseModel):
    """The public view of a user: safe to return, log and publish."""

    model_config = ConfigDict(frozen=True)

    id: str
    email: str
    name: str
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None
    roles: tuple[Role, ...] = (Role.USER,)
    status: Status = Status.ACTIVE
    version: int = 1
    created_at: datetime
    updated_at: datetime


class UserAccount(BaseModel):
    """A user with the secrets and login state that never leave the service."""

    model_config = ConfigDict(frozen=True)

    user: User
    password_hash: str = Field(repr=False)
    locked_until: datetime | None = None
    sessions_revoked_at: datetime | None = None
    session_generation: int = 0
    """Carried by every access token (``gen``); each revocation increments it, so tokens issued
    before it are refused exactly, with no clock comparison."""

    def accepts_session(self, session_generation: int) -> bool:
        """Whether an access token of that generation still speaks for this user."""
        return self.user.status == Status.ACTIVE and session_generation == self.session_generation

    def with_sessions_revoked(self, now: datetime) -> UserAccount:
        """Every refresh family made before ``now`` and every access token issued so far die."""
        return self.model_copy(
            update={"sessions_revoked_at": now, "session_generation": self.session_generation + 1}
        )


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None = None
