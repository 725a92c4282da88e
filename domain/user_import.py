"""Moving users in: one line of an import file -> a stored user, or the reason it is not one.

The file's fields are what `userflow users export` writes (the public user, optionally
``password_hash``); the export's bookkeeping fields (``version``, ``updated_at``, and public fields
this service derives, such as counts) are read and ignored. Imported passwords keep their hash as
made by the other system, verified at the user's next login and then replaced by argon2id
(domain/password_formats.py); a user without one must reset the password. Idempotent by email:
a line whose address (in any stored form) already has an account is "exists", never a change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from domain.clock import Clock, utc_now
from domain.email_lookup import account_by_email
from domain.errors import EmailAlreadyExists, UserflowError, UserNotFound
from domain.metadata import ADMIN_WRITABLE, USER_WRITABLE, MetadataPolicy
from domain.password_formats import UnsupportedHash, check_importable
from domain.passwords import PasswordHasher
from domain.ports import UserRepository
from domain.users import (
    Email,
    Locale,
    Name,
    Origin,
    Phone,
    Role,
    TimeZone,
    User,
    UserAccount,
    UserStatus,
)

UserId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")]


class ImportedUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UserId | None = Field(default=None, description="Kept when given (a move between stacks)")
    email: Email
    name: Name
    phone: Phone | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    email_verified: bool = False
    created_at: AwareDatetime | None = None
    password_hash: Annotated[str, StringConstraints(max_length=1024)] | None = None
    metadata: dict[str, Any] | None = None
    app_metadata: dict[str, Any] | None = None
    roles: list[Role] = Field(default_factory=lambda: [Role.USER], min_length=1)
    status: UserStatus = UserStatus.ACTIVE


IGNORED_FIELDS = frozenset(User.model_fields) - frozenset(ImportedUser.model_fields)
"""Written by the export, derived here: a file read back never fails on them."""


class Result(StrEnum):
    CREATED = "created"
    WOULD_CREATE = "would-create"
    """--dry-run: valid and new."""
    EXISTS = "exists"
    INVALID = "invalid"


@dataclass(frozen=True)
class Outcome:
    result: Result
    user_id: str | None = None
    reason: str | None = None


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'line'}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)[:5]
    )


class UserImporter:
    def __init__(
        self,
        repository: UserRepository,
        hasher: PasswordHasher,
        metadata: MetadataPolicy,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._repository = repository
        self._hasher = hasher
        self._metadata = metadata
        self._clock = clock
        self._new_id = new_id

    def parse(self, values: Any) -> ImportedUser:
        """The line as a user to import; InvalidLine saying why not."""
        if not isinstance(values, dict):
            raise InvalidLine("a line must be a JSON object")
        try:
            line = ImportedUser.model_validate(
                {k: v for k, v in values.items() if k not in IGNORED_FIELDS}
            )
            if line.password_hash is not None:
                check_importable(line.password_hash)
            for name in (USER_WRITABLE, ADMIN_WRITABLE):
                if getattr(line, name) is not None:
                    self._metadata.validated(name, getattr(line, name))
        except ValidationError as error:
            raise InvalidLine(_problems(error)) from None
        except UnsupportedHash as error:
            raise InvalidLine(f"password_hash: {error}") from None
        except UserflowError as error:
            raise InvalidLine(f"{error.message}: {error.details}") from None
        return line

    def existing(self, line: ImportedUser) -> UserAccount | None:
        return account_by_email(self._repository, line.email)

    def import_line(self, line: ImportedUser, dry_run: bool = False) -> Outcome:
        """Creates the user unless its address (or id) is taken; nothing is half-written."""
        found = self.existing(line)
        if found is not None:
            return Outcome(Result.EXISTS, found.user.id, "an account has this email")
        if line.id is not None and self._taken(line.id):
            return Outcome(Result.INVALID, None, "id: another user has this id")
        if dry_run:
            return Outcome(Result.WOULD_CREATE, line.id)
        account = self._account(line)
        try:
            self._repository.add(account)
        except EmailAlreadyExists:
            return Outcome(Result.EXISTS, None, "an account has this email")
        return Outcome(Result.CREATED, account.user.id)

    def _taken(self, user_id: str) -> bool:
        try:
            self._repository.get(user_id)
        except UserNotFound:
            return False
        return True

    def _account(self, line: ImportedUser) -> UserAccount:
        now = self._clock()
        user = User(
            id=line.id or self._new_id(),
            email=line.email,
            email_verified=line.email_verified,
            name=line.name,
            phone=line.phone,
            locale=line.locale,
            timezone=line.timezone,
            metadata=line.metadata or {},
            app_metadata=line.app_metadata or {},
            roles=tuple(dict.fromkeys(line.roles)),
            status=line.status,
            created_at=line.created_at or now,
            updated_at=now,
        )
        # No hash: a password nobody knows (it costs a real check), so the user must reset.
        password_hash = line.password_hash or self._hasher.unmatchable_hash()
        return UserAccount(user=user, password_hash=password_hash, origin=Origin.IMPORT)


class InvalidLine(ValueError):
    """Why a line cannot become a user (never quoting a password hash)."""
