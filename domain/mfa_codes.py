"""TOTP (RFC 6238, with pyotp) and recovery codes: generating, checking, normalizing.

TOTP as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. A code is accepted
for the current step or the one before (a code typed as the step turns), never a later one, and
the step it matched is returned so that the caller can refuse it the next time
(``MfaSecrets.totp_last_step``).
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from pyotp.exceptions import OTPVerificationError

TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
TOTP_SECRET_CHARACTERS = 32
"""Base32 characters of a new secret: 160 bits, the HMAC-SHA-1 key size RFC 4226 recommends."""
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
"""Characters of a recovery code, from a 31-letter alphabet: about 50 random bits each."""
# Lower case, without the characters read alike (i/l/1, o/0): a code copied by hand still works.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_totp_secret() -> str:
    return pyotp.random_base32(TOTP_SECRET_CHARACTERS)


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans (as a QR code) or takes."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def matched_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is valid for (now or one step back), None if neither."""
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS)
    try:
        step = totp.verify_and_get_timecode(code, for_time=now, valid_window=1)
    except OTPVerificationError:
        return None
    # valid_window=1 also accepts the next step: a code from a clock running ahead is refused.
    return step if step <= totp.timecode(now) else None


def new_recovery_codes() -> list[str]:
    """Ten codes as shown to the user: ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalize_recovery_code(text: str) -> str | None:
    """The code as hashed: lower case, without the separator or spaces a user may have typed;
    None when it cannot be a code (wrong length or characters) - no hash is spent on it."""
    code = "".join(text.split()).replace("-", "").lower()
    if len(code) != RECOVERY_CODE_LENGTH or any(c not in _RECOVERY_ALPHABET for c in code):
        return None
    return code
