"""The account an address names, whichever form it was stored in: login, forgot-password,
operators and imports all look an address up this one way, so none of them misses the accounts
registered before today's address rules (domain/email_address.py, ``lookup_forms``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.email_address import lookup_forms

if TYPE_CHECKING:
    from domain.ports import UserRepository
    from domain.users import UserAccount


def account_by_email(users: UserRepository, email: str) -> UserAccount | None:
    """Tried in the address's canonical form first, then in its legacy form; None if neither
    is stored."""
    found = (users.find_by_email(form) for form in lookup_forms(email))
    return next(filter(None, found), None)
