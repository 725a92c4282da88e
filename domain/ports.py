"""Interfaces the domain needs from the outside world; adapters implement them."""

from __future__ import annotations

from typing import Protocol

from domain.users import UserAccount, UserPage


class UserRepository(Protocol):
    def add(self, account: UserAccount) -> None:
        """Store a new user and claim its email; EmailAlreadyExists if the email is taken."""

    def get(self, user_id: str) -> UserAccount:
        """UserNotFound if there is no such user."""

    def find_by_email(self, email: str) -> UserAccount | None: ...

    def save(self, updated: UserAccount, previous: UserAccount) -> None:
        """Replace ``previous`` if its version is still current (else VersionConflict), moving
        the email claim when the email changed (EmailAlreadyExists if taken)."""

    def remove(self, deleted: UserAccount, previous: UserAccount) -> None:
        """Delete ``previous`` if its version is still current (else VersionConflict; UserNotFound
        if already gone) and release its email; the deletion is recorded as ``deleted`` (its
        version and time), so the last image the stream carries is the deletion itself."""

    def list_users(self, limit: int, cursor: str | None) -> UserPage:
        """One page in a stable order; InvalidCursor for a cursor this service did not issue."""
