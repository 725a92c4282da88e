"""One canonical identity per person: how email addresses are validated, normalized and looked up.

Validation is ``email-validator``'s (the library pydantic uses): Unicode normalization, IDNA
domains, no control or format characters, no trailing-dot or special-use domains. On top of it: the
local part is NFKC-normalized and lower-cased, and a local part or domain label that mixes scripts
with look-alike characters (a Cyrillic "a", U+0430, among Latin letters; Unicode TR39) is refused.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

MAX_EMAIL_LENGTH = 254


def legacy_canonical_email(value: str) -> str:
    """Trimmed and lower-cased: how addresses were stored before the rules above, so accounts made
    then are still found."""
    return value.strip().lower()


def _mixes_scripts_confusably(text: str) -> bool:
    from confusable_homoglyphs import confusables

    return bool(confusables.is_dangerous(text))


def normalize_email(value: str) -> str:
    """The canonical form of a valid address, so that uniqueness ignores case, Unicode
    compatibility forms and the spelling of the domain (IDNA). ValueError when not acceptable."""
    # Imported on first use: compiling its patterns costs ~40 ms that functions never validating
    # an address (the authorizer, the stream processor) should not pay at cold start.
    from email_validator import EmailNotValidError, validate_email

    text = value.strip()
    try:
        parsed = validate_email(text, check_deliverability=False)
        local = unicodedata.normalize("NFKC", parsed.local_part).lower()
        normalized = validate_email(f"{local}@{parsed.domain}", check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"must be a valid email address: {error}") from error
    local_part, domain = normalized.local_part, normalized.domain.lower()
    if any(_mixes_scripts_confusably(part) for part in [local_part, *domain.split(".")]):
        raise ValueError("must not mix look-alike characters of different scripts")
    email = f"{local_part}@{domain}"
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(f"must be at most {MAX_EMAIL_LENGTH} characters")
    return email


# What an address had to look like before the rules above: accounts stored then may hold one that
# the rules now refuse ("old@corp.local", "john..doe@example.com") and still log in.
LEGACY_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def require_valid_email(value: str) -> str:
    """``value`` as typed, once it is a valid address or was one under the former rules
    (ValueError otherwise): for a lookup that must try the legacy form too (``lookup_forms``),
    which normalizing first would lose."""
    try:
        normalize_email(value)
    except ValueError:
        legacy = legacy_canonical_email(value)
        if len(legacy) > MAX_EMAIL_LENGTH or not LEGACY_EMAIL_SHAPE.fullmatch(legacy):
            raise
    return value


def lookup_forms(value: str) -> list[str]:
    """The stored forms an address typed at login may have: its canonical form and, for accounts
    registered before these rules, the legacy one."""
    forms = []
    with contextlib.suppress(ValueError):
        forms.append(normalize_email(value))
    legacy = legacy_canonical_email(value)
    return forms if legacy in forms else [*forms, legacy]
