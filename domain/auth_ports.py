"""What authentication needs from storage (``adapters/dynamodb_session_repository.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.auth_models import RefreshRecord, SessionFamily
from domain.users import UserAccount


class SessionRepository(Protocol):
    def start_family(self, family: SessionFamily, first: RefreshRecord) -> None:
        """Store a new family and its first refresh token together."""

    def find_token(self, token_hash: str) -> RefreshRecord | None: ...

    def get_family(self, family_id: str) -> SessionFamily | None: ...

    def rotate(self, old: RefreshRecord, new: RefreshRecord, now: datetime) -> bool:
        """Mark ``old`` rotated and store ``new`` at once; False when ``old`` was already rotated
        or its family revoked meanwhile (nothing is written then)."""

    def revoke_family(self, family_id: str, now: datetime) -> None: ...


class LoginStateRepository(Protocol):
    """Login bookkeeping on the user item; never changes ``version`` (not a user-visible change)."""

    def record_failed_login(
        self, user_id: str, now: datetime, max_failures: int, lock_until: datetime
    ) -> bool:
        """Count a failure; at ``max_failures`` lock the account until ``lock_until`` and reset
        the counter. True when this failure locked the account."""

    def record_successful_login(
        self, account: UserAccount, new_password_hash: str | None, now: datetime, max_failures: int
    ) -> bool:
        """Clear the failure counter and lock and store the re-hashed password, if the account is
        still as verified: the same password hash, not locked at ``now`` and fewer than
        ``max_failures`` failures. False (nothing written) when concurrent attempts changed that."""

    def revoke_all_sessions(self, user_id: str, now: datetime) -> None:
        """Every family created before ``now`` stops refreshing."""
