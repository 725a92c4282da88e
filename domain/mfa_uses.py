"""What a login's second step writes (domain/mfa_login.py): its challenge, and the use each
factor makes of the user's items, which the challenge store (a port, domain/ports.py) writes in
one transaction with the challenge's consumption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain.mail import MailRequest

if TYPE_CHECKING:
    from domain.passkeys import PasskeyUse, StoredPasskey


@dataclass(frozen=True)
class MfaChallenge:
    token_hash: str
    user_id: str
    session_generation: int
    expires_at: datetime
    failures: int = 0


@dataclass(frozen=True)
class TotpStepUsed:
    """Record ``step`` as the last used, if it is newer and the secret is still ``sealed``."""

    user_id: str
    step: int
    sealed_secret: str


@dataclass(frozen=True)
class RecoveryCodeUsed:
    """Strike ``code_hash`` from the user's codes, if still there, and mail the user; at the
    next ``version`` after the one read (a security event, RecoveryCodeUsed, with ``remaining``
    codes), unless the version is unknown (0)."""

    user_id: str
    code_hash: str
    notice: MailRequest
    version: int = 0
    remaining: int = 0


@dataclass(frozen=True)
class PasskeyUsed:
    """Record a verified assertion's counter, if no other assertion moved it past meanwhile;
    ``amr``: the passkey's kind ("hwk" device-bound, "swk" synced)."""

    passkey: StoredPasskey
    use: PasskeyUse
    amr: str


FactorUse = TotpStepUsed | RecoveryCodeUsed | PasskeyUsed
