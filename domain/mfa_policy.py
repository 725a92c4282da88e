"""Who must have a second factor (template parameter ``MfaPolicy``), and what a session without
one may still do where it is required. Imported by the authorizer: no TOTP, no AWS.

Where the policy covers a user, every login that completes without a second factor is a user
who has not enrolled yet (an enrolled user's login always asks for the factor). Such a session's
tokens (``amr`` without a second factor) are *enrolment-only*: the authorizer admits them to the
routes below and to no other, so the policy needs no extra claim and no table read, and a
refresh keeps the restriction (refresh keeps ``amr``). Having enrolled, the user logs in again.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.users import UserAccount

ADMIN_ROLE = "admin"
# RFC 8176 methods that prove something besides a password (domain/reauthentication.py too).
SECOND_FACTOR_AMR = frozenset({"otp", "hwk", "swk"})
ENROLMENT_ROUTES = frozenset(
    {
        "GET /users/me",
        "GET /users/me/mfa",
        "POST /users/me/mfa/totp",
        "POST /users/me/mfa/totp/confirm",
        "GET /users/me/passkeys",
        "POST /users/me/passkeys/options",
        "POST /users/me/passkeys",
        "POST /auth/logout",
    }
)
"""What an enrolment-only token may call: see its state, enrol (an authenticator app, or a
passkey: a second factor too, domain/passkey_factor.py), and sign out."""


class MfaPolicy(StrEnum):
    OPTIONAL = "optional"
    REQUIRED_FOR_ADMINS = "required-for-admins"
    REQUIRED = "required"

    def covers(self, roles: Iterable[str]) -> bool:
        """Whether a user with these roles must have a second factor."""
        if self is MfaPolicy.REQUIRED:
            return True
        return self is MfaPolicy.REQUIRED_FOR_ADMINS and ADMIN_ROLE in roles

    def admits(self, roles: Iterable[str], amr: Iterable[str], route_key: str) -> bool:
        """Whether a token with these roles and methods may call ``route_key``."""
        roles = frozenset(roles)
        if not self.covers(roles) or SECOND_FACTOR_AMR & frozenset(amr):
            return True
        return route_key in ENROLMENT_ROUTES


def has_second_factor(account: UserAccount) -> bool:
    """Whether the account's dangerous operations need a token whose ``amr`` holds a second
    factor (domain/reauthentication.py): a password alone must not turn MFA off."""
    return account.user.mfa_enabled
