"""The event types, and the security stamp a write leaves on the user item
(domain/security_events.py): light, so that the functions that write stamps load no event model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.actors import Actor


class DetailType(StrEnum):
    USER_CREATED = "UserCreated"
    USER_UPDATED = "UserUpdated"
    USER_DELETED = "UserDeleted"
    # Security events (domain/security_events.py): each is its own change's notification.
    PASSWORD_CHANGED = "PasswordChanged"  # noqa: S105 - an event name
    EMAIL_VERIFIED = "EmailVerified"
    EMAIL_CHANGED = "EmailChanged"
    SESSIONS_REVOKED = "SessionsRevoked"
    ACCOUNT_LOCKED = "AccountLocked"
    ACCOUNT_UNLOCKED = "AccountUnlocked"
    USER_DISABLED = "UserDisabled"
    USER_ENABLED = "UserEnabled"
    ROLE_GRANTED = "RoleGranted"
    ROLE_REVOKED = "RoleRevoked"
    MFA_ENABLED = "MfaEnabled"
    MFA_DISABLED = "MfaDisabled"
    RECOVERY_CODE_USED = "RecoveryCodeUsed"
    PASSKEY_ADDED = "PasskeyAdded"
    PASSKEY_REMOVED = "PasskeyRemoved"


@dataclass(frozen=True)
class SecurityStamp:
    """The latest security event of one kind on a user item, written with the change it names
    (adapters/security_stamps.py): the stream carries it, and a replay from the table can
    publish it again under the same event id."""

    detail_type: DetailType
    version: int
    at: datetime
    actor: Actor
    fields: Mapping[str, Any] = field(default_factory=dict)
    """The event's own detail fields (reason, scope, old and new address...)."""


def stamp(
    detail_type: DetailType, version: int, at: datetime, actor: Actor, **fields: Any
) -> SecurityStamp:
    """A stamp a write makes itself (a lock, an unlock, a revocation, a used recovery code)."""
    return SecurityStamp(detail_type, version, at, actor, fields)
