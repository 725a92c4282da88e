"""Password hashes made by other systems, accepted by `userflow users import` and verified at the
user's next login, which then stores an argon2id hash instead (``PasswordHasher.needs_rehash``).

Accepted: PHC strings of argon2 (``$argon2id$``, ``$argon2i$``, ``$argon2d$``), scrypt
(``$scrypt$ln=..,r=..,p=..$salt$hash``, passlib's) and pbkdf2 (``$pbkdf2-sha256$rounds$salt$hash``
as passlib writes it, or ``$pbkdf2-sha256$i=..,l=..$salt$hash``; sha1 and sha512 too); bcrypt
(``$2a$``, ``$2b$``, ``$2y$``); Django's ``pbkdf2_sha256$iterations$salt$hash``.

Each format's cost is bounded: an imported hash is verified by the login function, so a cost past
what one login can spend (a bcrypt cost of 31, scrypt with gigabytes) is refused at import rather
than turning every later login of that user into a timeout. bcrypt and hashlib do the work; this
module only reads the encodings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

# What one login may spend verifying an imported hash (the login function has one vCPU and
# 1769 MB; the user's next login replaces the hash with argon2id at our own cost).
MAX_MEMORY_BYTES = 256 * 1024 * 1024
MAX_BCRYPT_COST = 15
MAX_PBKDF2_ITERATIONS = 5_000_000
MAX_ARGON2_PASSES = 16
MAX_ARGON2_LANES = 16
BCRYPT_MAX_BYTES = 72
"""bcrypt reads at most 72 bytes of a password: the system that made the hash ignored the rest."""

PBKDF2_DIGESTS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}


class UnsupportedHash(ValueError):
    """A hash this service cannot verify: an unknown format, a malformed one, or a cost past
    what a login may spend. The message says which, never the hash."""


def _b64decode(text: str) -> bytes:
    """Unpadded base64 in the standard or passlib's alphabet ('.' for '+')."""
    try:
        return base64.b64decode(text.replace(".", "+") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise UnsupportedHash("its salt or digest is not base64") from error


def _int(text: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", text, flags=re.ASCII):
        raise UnsupportedHash(f"its {what} is not a number")
    return int(text)


def _params(text: str) -> dict[str, str]:
    """``a=1,b=2`` as PHC strings write their parameters."""
    params: dict[str, str] = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        if not equals:
            raise UnsupportedHash("its parameters are malformed")
        params[name] = value
    return params


@dataclass(frozen=True)
class _Format:
    name: str
    matches: Callable[[str], bool]
    check: Callable[[str], None]
    """Raises UnsupportedHash when the hash cannot or may not be verified."""
    verify: Callable[[bytes, str], bool]


# ---------------------------------------------------------------- argon2 (argon2-cffi)
_ARGON2 = re.compile(
    r"\$argon2(id|i|d)\$v=(16|19)\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
    flags=re.ASCII,
)


def _check_argon2(encoded: str) -> None:
    found = _ARGON2.fullmatch(encoded)
    if found is None:
        raise UnsupportedHash("it is not a well-formed argon2 PHC string")
    memory_kib, passes, lanes = (int(found.group(i)) for i in (3, 4, 5))
    if memory_kib * 1024 > MAX_MEMORY_BYTES or passes > MAX_ARGON2_PASSES:
        raise UnsupportedHash("its argon2 cost is beyond what a login may spend")
    if not 1 <= lanes <= MAX_ARGON2_LANES or passes < 1:
        raise UnsupportedHash("its argon2 parameters are out of range")


def _verify_argon2(secret: bytes, encoded: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(encoded, secret)
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- scrypt (PHC, passlib)
_SCRYPT = re.compile(r"\$scrypt\$([^$]+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)", flags=re.ASCII)


def _scrypt_parts(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    found = _SCRYPT.fullmatch(encoded)
    if found is None:
        raise UnsupportedHash("it is not a well-formed scrypt PHC string")
    params = _params(found.group(1))
    if set(params) != {"ln", "r", "p"}:
        raise UnsupportedHash("its scrypt parameters must be ln, r and p")
    log2_n, block, lanes = (_int(params[name], name) for name in ("ln", "r", "p"))
    if not (1 <= log2_n <= 30 and block >= 1 and lanes >= 1):
        raise UnsupportedHash("its scrypt parameters are out of range")
    if 128 * block * (2**log2_n) * lanes > MAX_MEMORY_BYTES:
        raise UnsupportedHash("its scrypt cost is beyond what a login may spend")
    return log2_n, block, lanes, _b64decode(found.group(2)), _b64decode(found.group(3))


def _check_scrypt(encoded: str) -> None:
    _scrypt_parts(encoded)


def _verify_scrypt(secret: bytes, encoded: str) -> bool:
    log2_n, block, lanes, salt, digest = _scrypt_parts(encoded)
    derived = hashlib.scrypt(
        secret,
        salt=salt,
        n=2**log2_n,
        r=block,
        p=lanes,
        maxmem=MAX_MEMORY_BYTES + 1024 * 1024,
        dklen=len(digest),
    )
    return hmac.compare_digest(derived, digest)


# ---------------------------------------------------------------- bcrypt
_BCRYPT = re.compile(r"\$2[aby]\$([0-9]{2})\$[./A-Za-z0-9]{53}", flags=re.ASCII)


def _check_bcrypt(encoded: str) -> None:
    found = _BCRYPT.fullmatch(encoded)
    if found is None:
        raise UnsupportedHash("it is not a well-formed bcrypt hash")
    cost = int(found.group(1))
    if cost < 4:
        raise UnsupportedHash("its bcrypt cost is out of range")
    if cost > MAX_BCRYPT_COST:
        raise UnsupportedHash("its bcrypt cost is beyond what a login may spend")


def _verify_bcrypt(secret: bytes, encoded: str) -> bool:
    import bcrypt

    return bcrypt.checkpw(secret[:BCRYPT_MAX_BYTES], encoded.encode("ascii"))


# ---------------------------------------------------------------- pbkdf2 (Django, PHC)
_DJANGO = re.compile(r"pbkdf2_(sha1|sha256)\$([0-9]+)\$([^$]*)\$([A-Za-z0-9+/=]+)", flags=re.ASCII)
_PHC_PBKDF2 = re.compile(
    r"\$pbkdf2(?:-(sha1|sha256|sha512))?\$([^$]+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)",
    flags=re.ASCII,
)


def _iterations(count: int) -> int:
    if count < 1:
        raise UnsupportedHash("its pbkdf2 iteration count is out of range")
    if count > MAX_PBKDF2_ITERATIONS:
        raise UnsupportedHash("its pbkdf2 cost is beyond what a login may spend")
    return count


def _django_parts(encoded: str) -> tuple[str, int, bytes, bytes]:
    found = _DJANGO.fullmatch(encoded)
    if found is None:
        raise UnsupportedHash("it is not a well-formed Django pbkdf2 hash")
    digest = found.group(4)
    try:
        expected = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError) as error:
        raise UnsupportedHash("its digest is not base64") from error
    count = _iterations(_int(found.group(2), "iteration count"))
    return found.group(1), count, found.group(3).encode(), expected


def _check_django(encoded: str) -> None:
    _django_parts(encoded)


def _pbkdf2_matches(secret: bytes, parts: tuple[str, int, bytes, bytes]) -> bool:
    algorithm, count, salt, expected = parts
    derived = hashlib.pbkdf2_hmac(algorithm, secret, salt, count, dklen=len(expected))
    return hmac.compare_digest(derived, expected)


def _verify_django(secret: bytes, encoded: str) -> bool:
    return _pbkdf2_matches(secret, _django_parts(encoded))


def _phc_pbkdf2_parts(encoded: str) -> tuple[str, int, bytes, bytes]:
    found = _PHC_PBKDF2.fullmatch(encoded)
    if found is None:
        raise UnsupportedHash("it is not a well-formed pbkdf2 PHC string")
    algorithm = PBKDF2_DIGESTS[found.group(1) or "sha1"]
    rounds = found.group(2)
    if "=" in rounds:  # the PHC form: i=<iterations>[,l=<length>]
        params = _params(rounds)
        if "i" not in params or not set(params) <= {"i", "l"}:
            raise UnsupportedHash("its pbkdf2 parameters must be i and l")
        rounds = params["i"]
    count = _iterations(_int(rounds, "iteration count"))
    digest = _b64decode(found.group(4))
    if not digest:
        raise UnsupportedHash("its digest is empty")
    return algorithm, count, _b64decode(found.group(3)), digest


def _check_phc_pbkdf2(encoded: str) -> None:
    _phc_pbkdf2_parts(encoded)


def _verify_phc_pbkdf2(secret: bytes, encoded: str) -> bool:
    return _pbkdf2_matches(secret, _phc_pbkdf2_parts(encoded))


FORMATS = (
    _Format("argon2", lambda h: h.startswith("$argon2"), _check_argon2, _verify_argon2),
    _Format("scrypt", lambda h: h.startswith("$scrypt$"), _check_scrypt, _verify_scrypt),
    _Format("bcrypt", lambda h: h[:4] in ("$2a$", "$2b$", "$2y$"), _check_bcrypt, _verify_bcrypt),
    _Format("django-pbkdf2", lambda h: h.startswith("pbkdf2_"), _check_django, _verify_django),
    _Format("pbkdf2", lambda h: h.startswith("$pbkdf2"), _check_phc_pbkdf2, _verify_phc_pbkdf2),
)


def _format_of(encoded: str) -> _Format:
    found = next((candidate for candidate in FORMATS if candidate.matches(encoded)), None)
    if found is None:
        raise UnsupportedHash(
            "unknown hash format (accepted: argon2, scrypt and pbkdf2 PHC strings, bcrypt "
            "$2a$/$2b$/$2y$, Django pbkdf2_sha256)"
        )
    return found


def check_importable(encoded: str) -> str:
    """The format's name if this service can verify ``encoded`` at a login; else UnsupportedHash
    saying why."""
    found = _format_of(encoded)
    found.check(encoded)
    return found.name


def verify_foreign(secret: bytes, encoded: str) -> bool:
    """Whether ``secret`` (the password's bytes) matches a hash of an accepted format; False for
    anything else, malformed hashes included."""
    try:
        found = _format_of(encoded)
        found.check(encoded)
        return found.verify(secret, encoded)
    except (UnsupportedHash, ValueError):
        return False
