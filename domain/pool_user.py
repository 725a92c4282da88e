"""A user as another user pool describes them (the port ``domain.ports.UserPool`` answers it;
domain/user_migration.py moves them over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PoolUser:
    """What the other pool says of a user (never a password)."""

    pool_user_id: str
    """The pool's own id for them (Cognito's ``sub``): kept in ``app_metadata.migrated_from``."""
    email: str
    email_verified: bool
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None
    created_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    """The pool's custom attributes, by name (Cognito's without ``custom:``)."""
