"""What the security events say about why and how far (domain/security_events.py); a module of
its own so that the login functions name a reason without loading the event models."""

from __future__ import annotations

from enum import StrEnum


class PasswordChangeReason(StrEnum):
    CHANGE = "change"  # the user (or an admin) set a new one
    RESET = "reset"  # through a reset link
    REMOVED = "removed"  # the user went passwordless (passkeys only)


class SessionScope(StrEnum):
    FAMILY = "family"  # one session (a refresh-token family) and its access tokens
    ALL = "all"  # every session and access token of the user


class RevocationReason(StrEnum):
    LOGOUT = "logout"
    RESET = "reset"
    REUSE_DETECTED = "reuse_detected"  # a rotated refresh token came back: the family is stolen
    ADMIN = "admin"  # an admin or operator: a role revoked, MFA reset
    DISABLE = "disable"  # the account was disabled
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - the user's password was changed
    PASSKEY_CLONED = "passkey_cloned"  # a passkey's signature counter went backwards
