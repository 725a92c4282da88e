"""Which security events a saved change of a whole account is (domain/security_events.py says
what each one carries): pure rules, light enough for every function that saves a user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.actors import Actor
from domain.event_types import DetailType, SecurityStamp
from domain.security_reasons import PasswordChangeReason, RevocationReason, SessionScope
from domain.users import Role, User, UserAccount, UserStatus, is_unusable_hash


def _password_reason(before: UserAccount, after: UserAccount, reset: bool) -> dict[str, Any] | None:
    if before.password_hash == after.password_hash:
        return None
    if reset:
        reason = PasswordChangeReason.RESET
    elif is_unusable_hash(after.password_hash):
        reason = PasswordChangeReason.REMOVED
    else:
        reason = PasswordChangeReason.CHANGE
    return {"reason": reason}


def _sessions_revoked(
    before: UserAccount, after: UserAccount, reset: bool
) -> dict[str, Any] | None:
    if after.session_generation <= before.session_generation:
        return None
    if reset:
        reason = RevocationReason.RESET
    elif after.user.status == UserStatus.DISABLED != before.user.status:
        reason = RevocationReason.DISABLE
    elif after.password_hash != before.password_hash:
        reason = RevocationReason.PASSWORD_CHANGE
    else:
        reason = RevocationReason.ADMIN
    return {"scope": SessionScope.ALL, "reason": reason}


def _unlocked(before: UserAccount, after: UserAccount, _: bool) -> dict[str, Any] | None:
    return {} if before.locked_until is not None and after.locked_until is None else None


def _public(rule: Callable[[User, User], dict[str, Any] | None]) -> StampRule:
    return lambda before, after, _: rule(before.user, after.user)


def _when(holds: bool) -> dict[str, Any] | None:
    return {} if holds else None


def _roles(added: set[Role]) -> dict[str, Any] | None:
    return {"roles": sorted(added)} if added else None


StampRule = Callable[[UserAccount, UserAccount, bool], dict[str, Any] | None]
"""(before, after, through a reset link) -> the event's own fields, or None: not this event."""

STAMP_RULES: dict[DetailType, StampRule] = {
    DetailType.PASSWORD_CHANGED: _password_reason,
    DetailType.EMAIL_VERIFIED: _public(
        lambda o, n: _when(n.email_verified and not o.email_verified)
    ),
    DetailType.EMAIL_CHANGED: _public(
        lambda o, n: None if o.email == n.email else {"old_email": o.email, "new_email": n.email}
    ),
    DetailType.SESSIONS_REVOKED: _sessions_revoked,
    DetailType.ACCOUNT_UNLOCKED: _unlocked,
    DetailType.USER_DISABLED: _public(
        lambda o, n: _when(o.status != n.status == UserStatus.DISABLED)
    ),
    DetailType.USER_ENABLED: _public(lambda o, n: _when(o.status != n.status == UserStatus.ACTIVE)),
    DetailType.ROLE_GRANTED: _public(lambda o, n: _roles(set(n.roles) - set(o.roles))),
    DetailType.ROLE_REVOKED: _public(lambda o, n: _roles(set(o.roles) - set(n.roles))),
    DetailType.MFA_ENABLED: _public(lambda o, n: _when(n.mfa_enabled and not o.mfa_enabled)),
    DetailType.MFA_DISABLED: _public(lambda o, n: _when(o.mfa_enabled and not n.mfa_enabled)),
    DetailType.PASSKEY_ADDED: _public(lambda o, n: _when(n.passkey_count > o.passkey_count)),
    DetailType.PASSKEY_REMOVED: _public(lambda o, n: _when(n.passkey_count < o.passkey_count)),
}
"""Security events decided from a whole account's change. AccountLocked and RecoveryCodeUsed are
stamped by their own writes (the throttle, a second login step), which store no whole account."""


def stamps_for_save(
    before: UserAccount, after: UserAccount, actor: Actor, *, reset: bool = False
) -> list[SecurityStamp]:
    """The security events a saved change is, at its new version; none without a new version
    (a write that is no user change, such as a re-hash, is never an event)."""
    if after.user.version <= before.user.version:
        return []
    return [
        SecurityStamp(detail_type, after.user.version, after.user.updated_at, actor, fields)
        for detail_type, rule in STAMP_RULES.items()
        if (fields := rule(before, after, reset)) is not None
    ]
