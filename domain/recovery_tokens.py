"""Email verification and password reset tokens: random, single-use, stored only as hashes.

A token is ``<user id>.<random>.<mac>``. The table keeps only the SHA-256 of ``<user id>.<random>``
on the user item (the newest token of each purpose, so issuing one kills the previous). The mail
outbox item carries the *reference* ``<user id>.<random>``, which alone is not a token: the MAC,
an HMAC of the purpose and the reference under a key from Secrets Manager, is added only by the
mailer when it renders the message. So neither the table nor its stream ever hold a usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAC_BYTES = 16
RANDOM_BYTES = 32
MAX_TOKEN_LENGTH = 200


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


TOKEN_LIFETIME: dict[TokenPurpose, timedelta] = {
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=24),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}


@dataclass(frozen=True)
class IssuedToken:
    """What the user item keeps of its newest token of one purpose."""

    token_hash: str
    expires_at: datetime

    def accepts(self, token_hash: str, now: datetime) -> bool:
        return hmac.compare_digest(self.token_hash, token_hash) and now < self.expires_at


@dataclass(frozen=True)
class NewToken:
    """A freshly issued token: the reference for the outbox, the hash for the user item."""

    reference: str
    issued: IssuedToken


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hash_reference(reference: str) -> str:
    """The random part has 256 bits, so a fast hash suffices: nothing to brute-force."""
    return hashlib.sha256(reference.encode()).hexdigest()


def new_token(user_id: str, purpose: TokenPurpose, now: datetime) -> NewToken:
    reference = f"{user_id}.{_b64(secrets.token_bytes(RANDOM_BYTES))}"
    expires_at = now + TOKEN_LIFETIME[purpose]
    return NewToken(reference, IssuedToken(hash_reference(reference), expires_at))


def _mac(key: bytes, purpose: TokenPurpose, reference: str) -> str:
    digest = hmac.new(key, f"{purpose}:{reference}".encode(), hashlib.sha256).digest()
    return _b64(digest[:MAC_BYTES])


def token_for(key: bytes, purpose: TokenPurpose, reference: str) -> str:
    """The token the message carries (only the mailer, which has the key, makes it)."""
    return f"{reference}.{_mac(key, purpose, reference)}"


@dataclass(frozen=True)
class PresentedToken:
    """A token whose MAC checked out: whose it is and the hash to compare with the stored one."""

    user_id: str
    token_hash: str


def read_token(key: bytes, purpose: TokenPurpose, token: str) -> PresentedToken | None:
    """None for anything this service did not issue for that purpose (no lookup is made then)."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    reference, _, mac = token.rpartition(".")
    user_id, _, random_part = reference.partition(".")
    if not (user_id and random_part and mac):
        return None
    if not hmac.compare_digest(mac, _mac(key, purpose, reference)):
        return None
    return PresentedToken(user_id=user_id, token_hash=hash_reference(reference))


def reference_user_id(reference: str) -> str:
    return reference.partition(".")[0]
