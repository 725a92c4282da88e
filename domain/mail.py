"""Messages to users: what the API functions ask for (outbox) and how the mailer renders them.

An API function writes a ``MailRequest`` into the table in the same transaction as the state
change it reports (docs/api/recovery.md); the mailer renders it with
:func:`render` and sends it. A request never carries a password, a stored hash or a usable token:
only a token *reference* (``domain/recovery_tokens.py``) that the mailer turns into the link.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from domain.recovery_tokens import TokenPurpose, hash_reference, token_for
from domain.users import User, UserAccount

SYNTHETIC_EMAIL_DOMAIN = "smoke.userflow.example.com"
"""Where the deploy smoke test's synthetic users live (``scripts/smoke_test.py``). Nothing is
mailed there: each deploy would otherwise send SES mail to a domain that cannot receive it, and
bounces count against the sender's reputation."""


def is_synthetic_recipient(address: str) -> bool:
    return address.rpartition("@")[2].lower() == SYNTHETIC_EMAIL_DOMAIN


class MailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a message kind, not a secret
    EMAIL_CHANGED = "email_changed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    PASSKEY_BLOCKED = "passkey_blocked"
    PASSWORD_REMOVED = "password_removed"  # noqa: S105 - a message kind, not a secret
    MFA_DISABLED = "mfa_disabled"
    MFA_RESET = "mfa_reset"
    RECOVERY_CODE_USED = "recovery_code_used"


TOKEN_PURPOSE: dict[MailKind, TokenPurpose] = {
    MailKind.VERIFY_EMAIL: TokenPurpose.VERIFY_EMAIL,
    MailKind.RESET_PASSWORD: TokenPurpose.RESET_PASSWORD,
}


_NOT_YOU_PASSKEY = (
    "If this was not you, someone else may be signed in as you: remove the passkeys you do not "
    "recognise, sign out everywhere and reset your password.\n"
)
_NOT_YOU = (
    "If this was not you, reset your password at once and contact support: someone else may "
    "know it.\n"
)
# Security notices (domain/mfa.py, domain/passkey_service.py, domain/passkey_sign_in.py): no link,
# no code, no key, nothing the user typed but the name.
SECURITY_NOTICES: dict[MailKind, tuple[str, str]] = {
    MailKind.MFA_DISABLED: (
        "Two-step verification was turned off",
        "Two-step verification (authenticator app codes) was turned off for your account, and "
        f"its recovery codes no longer work.\n\n{_NOT_YOU}",
    ),
    MailKind.MFA_RESET: (
        "Two-step verification was reset by an administrator",
        "An administrator turned off two-step verification for your account and signed you out "
        "everywhere. Sign in with your password and set it up again.\n\n" + _NOT_YOU,
    ),
    MailKind.RECOVERY_CODE_USED: (
        "A recovery code was used to sign in",
        "One of your two-step verification recovery codes was just used to sign in; it will "
        "not work again. If you lost your phone, set up two-step verification again and make "
        f"new recovery codes.\n\n{_NOT_YOU}",
    ),
    MailKind.PASSKEY_ADDED: (
        "A passkey was added to your account",
        "A passkey was added to your account: the device that holds it can now sign you in "
        f"without your password.\n\n{_NOT_YOU_PASSKEY}",
    ),
    MailKind.PASSKEY_REMOVED: (
        "A passkey was removed from your account",
        f"A passkey was removed from your account and can no longer sign you in.\n\n"
        f"{_NOT_YOU_PASSKEY}",
    ),
    MailKind.PASSKEY_BLOCKED: (
        "One of your passkeys was blocked",
        "A sign-in with one of your passkeys showed a signature counter lower than the last one "
        "we saw: a copy of that passkey may exist. We blocked it and signed you out everywhere. "
        "Remove it from your account's passkeys and register the device again.\n",
    ),
    MailKind.PASSWORD_REMOVED: (
        "Your account no longer has a password",
        "The password of your account was removed: you now sign in with your passkeys. To have "
        f'a password again, use "Forgot password".\n\n{_NOT_YOU_PASSKEY}',
    ),
}


class MailRequest(BaseModel):
    """One message to send; ``token_reference`` only for the kinds that carry a link.

    ``name`` and ``new_email`` are text a user typed: they are set only for a recipient whose
    address is verified. Mail to an unverified address quotes nothing anyone typed, so that
    registering (or changing to) someone else's address cannot mail them an attacker's words."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    message_id: str
    kind: MailKind
    to: str
    user_id: str
    name: str | None = None
    token_reference: str | None = None
    new_email: str | None = None

    @property
    def purpose(self) -> TokenPurpose | None:
        return TOKEN_PURPOSE.get(self.kind)


def new_message_id() -> str:
    return str(uuid.uuid4())


def user_message(kind: MailKind, user: User, token_reference: str | None = None) -> MailRequest:
    """A message to the user's current address (a link, given ``token_reference``; else a
    notice); it greets the user by name only if that address is verified."""
    return MailRequest(
        message_id=new_message_id(),
        kind=kind,
        to=user.email,
        user_id=user.id,
        name=user.name if user.email_verified else None,
        token_reference=token_reference,
    )


@dataclass(frozen=True)
class RenderedMail:
    to: str
    subject: str
    text: str


def link(frontend_url: str, path: str, token: str) -> str:
    """``<frontend>/<path>?token=<token>``, keeping any query the front-end URL already has."""
    parts = urlsplit(frontend_url)
    base_path = parts.path.rstrip("/") + "/" + path
    query = "&".join(filter(None, [parts.query, urlencode({"token": token})]))
    return urlunsplit((parts.scheme, parts.netloc, base_path, query, ""))


def render(request: MailRequest, frontend_url: str, token: str | None) -> RenderedMail:
    """Plain-text messages; ``token`` is the full token for the kinds that carry a link."""
    greeting = f"Hello {request.name},\n\n" if request.name else "Hello,\n\n"
    if request.kind == MailKind.VERIFY_EMAIL:
        url = link(frontend_url, "verify-email", str(token))
        return RenderedMail(
            request.to,
            "Confirm your email address",
            f"{greeting}Confirm that this is your email address by opening:\n\n{url}\n\n"
            "The link works once, for 24 hours. If you did not sign up, ignore this message.\n",
        )
    if request.kind == MailKind.RESET_PASSWORD:
        url = link(frontend_url, "reset-password", str(token))
        return RenderedMail(
            request.to,
            "Reset your password",
            f"{greeting}Choose a new password by opening:\n\n{url}\n\n"
            "The link works once, for 1 hour, and signs you out everywhere. If you did not ask "
            "for it, ignore this message: your password stays as it is.\n",
        )
    if request.kind in SECURITY_NOTICES:
        subject, text = SECURITY_NOTICES[request.kind]
        return RenderedMail(request.to, subject, f"{greeting}{text}")
    changed_to = f" to {request.new_email}" if request.new_email else ""
    return RenderedMail(
        request.to,
        "Your email address was changed",
        f"{greeting}The email address of your account was changed{changed_to}.\n\n"
        "If you did not change it, contact support at once: someone else may control your "
        "account.\n",
    )


class MailSender(Protocol):
    def send(self, mail: RenderedMail, kind: MailKind) -> str:
        """Hand the message to the mail service; its message id. Raises when not accepted."""


class MailDelivery:
    """Turns a mail request into the message and sends it: the mailer's whole job, shared by the
    mailer function and `userflow dlq replay`."""

    def __init__(
        self, sender: MailSender, frontend_url: str, token_key: Callable[[], bytes]
    ) -> None:
        self._sender = sender
        self._frontend_url = frontend_url
        self._token_key = token_key

    def deliver(self, request: MailRequest) -> str:
        purpose = request.purpose
        token = None
        if purpose is not None and request.token_reference:
            token = token_for(self._token_key(), purpose, request.token_reference)
        return self._sender.send(render(request, self._frontend_url, token), request.kind)


def still_worth_sending(request: MailRequest, account: UserAccount | None, now: datetime) -> bool:
    """A link is worth sending only while its token is the user's newest and unexpired; a
    replayed message of a superseded token would only confuse (its link is dead anyway)."""
    if is_synthetic_recipient(request.to):
        return False
    purpose = request.purpose
    if purpose is None or request.token_reference is None:
        return True
    stored = account.token(purpose) if account is not None else None
    return stored is not None and stored.accepts(hash_reference(request.token_reference), now)
