"""Use cases on a user's record: register, read, update, delete; every rule about who may change
what of it lives here. What only admins and operators do is domain/admin_service.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.access import Caller, target_account
from domain.clock import Clock, utc_now
from domain.errors import (
    InvalidInput,
    UserNotFound,
    VersionConflict,
)
from domain.mail import MailKind, MailRequest, new_message_id, user_message
from domain.mail_limits import MailLimiter
from domain.metadata import METADATA_FIELDS, USER_WRITABLE, MetadataPolicy, ensure_may_write
from domain.password_guard import Outcome, PasswordGuard, Verdict
from domain.password_policy import MIN_PASSWORD_LENGTH, validated_password
from domain.passwords import PasswordHasher
from domain.ports import UserRepository
from domain.reauthentication import RecentAuthentication
from domain.recovery_tokens import TokenPurpose, new_token
from domain.users import (
    PROFILE_FIELDS,
    Registration,
    User,
    UserAccount,
    UserPatch,
)
from domain.write_races import redone_on_lost_race


def with_verification(account: UserAccount, now: datetime) -> tuple[UserAccount, MailRequest]:
    """The account with a new email verification token (the previous one dies) and its message."""
    token = new_token(account.user.id, TokenPurpose.VERIFY_EMAIL, now)
    message = user_message(MailKind.VERIFY_EMAIL, account.user, token.reference)
    return account.model_copy(update={"verify_token": token.issued}), message


@dataclass
class _Attempt:
    """One update request, across the tries a lost race makes."""

    source: str | None
    proven: bool = False
    mail_allowed: dict[str, bool] = field(default_factory=dict)


class UserService:
    def __init__(
        self,
        repository: UserRepository,
        hasher: PasswordHasher,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        *,
        password_guard: PasswordGuard,
        recent_authentication: Callable[[], RecentAuthentication] | None = None,
        mail_limiter: MailLimiter | None = None,
        password_min_length: int = MIN_PASSWORD_LENGTH,
        metadata: MetadataPolicy | None = None,
    ) -> None:
        """``password_guard``: checks a stored password (a replayed registration, proving the
        current one); what only admins and operators do needs none (domain/admin_service.py).
        ``recent_authentication``: the rule for dangerous operations, made on first use (only the
        functions that change or delete accounts are configured for it); default: its default
        policy on ``password_guard``. ``mail_limiter``: the limit on messages to one address or
        from one source (none: operator tools, which mail nobody an attacker chose).
        ``metadata``: the deployer's limits and schemas for custom attributes."""
        self._repository = repository
        self._mail_limiter = mail_limiter
        self._password_min_length = password_min_length
        self._metadata = metadata or MetadataPolicy()
        self._hasher = hasher
        self._password_guard = password_guard
        self._recent_authentication = recent_authentication or (
            lambda: RecentAuthentication(password_guard, clock=clock)
        )
        self._clock = clock
        self._new_id = new_id

    def register(self, registration: Registration, source: str | None = None) -> User:
        """``source``: the address the request came from (mail limits)."""
        password = validated_password(
            registration.password.get_secret_value(),
            registration.email,
            self._password_min_length,
        )
        now = self._clock()
        user = User(
            id=self._new_id(),
            email=registration.email,
            name=registration.name,
            phone=registration.phone,
            locale=registration.locale,
            timezone=registration.timezone,
            metadata=self._metadata.validated(USER_WRITABLE, registration.metadata or {}),
            created_at=now,
            updated_at=now,
        )
        account = UserAccount(user=user, password_hash=self._hasher.hash(password))
        account, verification = with_verification(account, now)
        self._repository.add(account, self._mailable([verification], source, {}))
        return user

    def check_replayed_password(self, user_id: str, password: str) -> Outcome:
        """Whether a replayed registration carries the password the user was registered with:
        a login attempt like any other (a user deleted since has nothing left to protect)."""
        try:
            account = self._repository.get(user_id)
        except UserNotFound:
            return Outcome(Verdict.ACCEPTED)
        return self._password_guard.prove(account, password)

    def get(self, caller: Caller, user_id: str) -> User:
        return target_account(self._repository, caller, user_id).user

    def update(
        self,
        caller: Caller,
        user_id: str,
        patch: UserPatch,
        if_match: int | None = None,
        source: str | None = None,
    ) -> User:
        """``source``: the address the request came from (mail limits)."""
        attempt = _Attempt(source)
        if if_match is not None:
            return self._update_once(caller, user_id, patch, if_match, attempt)
        return redone_on_lost_race(lambda: self._update_once(caller, user_id, patch, None, attempt))

    def _update_once(
        self,
        caller: Caller,
        user_id: str,
        patch: UserPatch,
        if_match: int | None,
        attempt: _Attempt,
    ) -> User:
        """``attempt``: what earlier tries of this request did once for all (proving the current
        password, counting messages against the mail limits)."""
        account = target_account(self._repository, caller, user_id)
        if if_match is not None and if_match != account.user.version:
            raise VersionConflict
        changes = self._user_changes(account.user, patch) | self._metadata_changes(
            caller, account.user, patch
        )
        own = caller.user_id == account.user.id
        if own and ("email" in changes or patch.password) and not attempt.proven:
            # A stolen or forgotten-open session must not take the account over (a new email
            # would receive the reset link).
            current = patch.current_password
            self._recent().require(caller, account, current.get_secret_value() if current else None)
            attempt.proven = True
        new_hash = self._new_password_hash(account, patch)
        if not changes and new_hash is None:
            return account.user
        now = self._clock()
        email_changed = "email" in changes
        if email_changed:
            changes["email_verified"] = False
        updated = account.changed(now, **changes)
        if new_hash:
            updated = updated.model_copy(update={"password_hash": new_hash})
            updated = updated.with_sessions_revoked(now)
        messages: list[MailRequest] = []
        if new_hash or email_changed:
            # A link mailed before a password or address change must not outlive it.
            updated = updated.model_copy(update={"verify_token": None, "reset_token": None})
        if email_changed:
            updated, verification = with_verification(updated, now)
            messages = [self._email_changed_notice(account, updated.user.email), verification]
        self._repository.save(
            updated, account, self._mailable(messages, attempt.source, attempt.mail_allowed)
        )
        return updated.user

    def delete(self, caller: Caller, user_id: str, current_password: str | None = None) -> None:
        """A deletion is a change like any other: it takes the next version, so subscribers
        ordering events by ``user.version`` see it after every update (docs/events.md, "Ordering
        and duplicates"). Deleting your own account needs recent authentication."""
        proven: list[bool] = []
        redone_on_lost_race(lambda: self._delete_once(caller, user_id, current_password, proven))

    def _delete_once(
        self, caller: Caller, user_id: str, current_password: str | None, proven: list[bool]
    ) -> None:
        account = target_account(self._repository, caller, user_id)
        if caller.user_id == account.user.id and not proven:
            self._recent().require(caller, account, current_password)
            proven.append(True)
        self._repository.remove(account.changed(self._clock()), account)

    def _mailable(
        self, messages: list[MailRequest], source: str | None, allowed: dict[str, bool]
    ) -> list[MailRequest]:
        """The messages within the mail limits (each recipient counted once per request, in
        ``allowed``); the change is made either way."""
        if self._mail_limiter is None:
            return messages
        for message in messages:
            if message.to not in allowed:
                allowed[message.to] = self._mail_limiter.allow(message.to, source)
        return [message for message in messages if allowed[message.to]]

    def _recent(self) -> RecentAuthentication:
        return self._recent_authentication()

    @staticmethod
    def _email_changed_notice(account: UserAccount, new_email: str) -> MailRequest:
        """Told to the *old* address: if someone else made the change, its owner learns of it
        (the new address and the name only if the old address was verified)."""
        verified = account.user.email_verified
        return MailRequest(
            message_id=new_message_id(),
            kind=MailKind.EMAIL_CHANGED,
            to=account.user.email,
            user_id=account.user.id,
            name=account.user.name if verified else None,
            new_email=new_email if verified else None,
        )

    @staticmethod
    def _user_changes(user: User, patch: UserPatch) -> dict[str, object]:
        sent = patch.model_dump(exclude_unset=True, include={"email", "name", *PROFILE_FIELDS})
        for required in ("email", "name"):
            if required in sent and sent[required] is None:
                raise InvalidInput(f"{required} cannot be removed")
        return {field: value for field, value in sent.items() if getattr(user, field) != value}

    def _metadata_changes(self, caller: Caller, user: User, patch: UserPatch) -> dict[str, object]:
        """Each map sent, merged into the stored one (RFC 7396) and checked whole."""
        changes: dict[str, object] = {}
        for name in METADATA_FIELDS:
            if name not in patch.model_fields_set:
                continue
            ensure_may_write(name, caller.is_admin)
            merged = self._metadata.patched(name, getattr(user, name), getattr(patch, name))
            if merged != getattr(user, name):
                changes[name] = merged
        return changes

    def _new_password_hash(self, account: UserAccount, patch: UserPatch) -> str | None:
        if patch.password is None:
            return None
        password = validated_password(
            patch.password.get_secret_value(),
            patch.email or account.user.email,
            self._password_min_length,
        )
        return self._hasher.hash(password)
