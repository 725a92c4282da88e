"""Password hashes as earlier releases stored them (scrypt), and as other systems store them
(imported by `userflow users import`), to test that they keep working."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable

from domain.passwords import PasswordHasher


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def scrypt_hash(password: str, log2_n: int = 10) -> str:
    """``scrypt$log2N$r$p$salt$hash``, the format before argon2id."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=2**log2_n, r=8, p=1, maxmem=2**27, dklen=32
    )
    return f"scrypt${log2_n}$8$1${_b64(salt)}${_b64(digest)}"


class LegacyScryptHasher(PasswordHasher):
    """Registers users the way an earlier release did."""

    def hash(self, password: str) -> str:
        return scrypt_hash(password)


# ---------------------------------------------------------------- other systems' hashes (import)
def _ab64(data: bytes) -> str:
    """passlib's "adapted base64": unpadded, '.' for '+'."""
    return _b64(data).replace("+", ".")


def bcrypt_hash(password: str, prefix: str = "$2b$", cost: int = 4) -> str:
    import bcrypt

    made = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(cost)).decode()
    return prefix + made[4:]


def django_pbkdf2_hash(password: str, iterations: int = 1000) -> str:
    """Django's ``pbkdf2_sha256$<iterations>$<salt>$<base64 digest>``."""
    salt = secrets.token_hex(11)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def passlib_pbkdf2_hash(password: str, rounds: int = 1000, digest: str = "sha256") -> str:
    """passlib's ``$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 digest>``."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt, rounds)
    return f"$pbkdf2-{digest}${rounds}${_ab64(salt)}${_ab64(derived)}"


def phc_pbkdf2_hash(password: str, rounds: int = 1000) -> str:
    """The PHC form: ``$pbkdf2-sha256$i=<rounds>,l=32$<b64 salt>$<b64 digest>``."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256$i={rounds},l=32${_b64(salt)}${_b64(derived)}"


def phc_scrypt_hash(password: str, log2_n: int = 10) -> str:
    """passlib's ``$scrypt$ln=<log2 N>,r=8,p=1$<b64 salt>$<b64 digest>``."""
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=2**log2_n, r=8, p=1, dklen=32)
    return f"$scrypt$ln={log2_n},r=8,p=1${_b64(salt)}${_b64(derived)}"


def argon2_hash(password: str, variant: str = "argon2i") -> str:
    """An argon2 PHC string of another system (another variant, a lower cost than ours)."""
    from argon2 import PasswordHasher as Argon2
    from argon2 import Type

    kind = {"argon2i": Type.I, "argon2d": Type.D, "argon2id": Type.ID}[variant]
    return Argon2(time_cost=1, memory_cost=1024, parallelism=2, type=kind).hash(password)


# Published test vectors, so that the formats are read as the systems that wrote them do.
# OpenBSD's bcrypt vector ("U*U", cost 5) and passlib's scrypt documentation example ("password").
BCRYPT_VECTOR = ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")
SCRYPT_VECTOR = (
    "password",
    "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
)

FOREIGN_HASHERS: dict[str, Callable[[str], str]] = {
    "bcrypt $2a$": lambda password: bcrypt_hash(password, "$2a$"),
    "bcrypt $2b$": lambda password: bcrypt_hash(password, "$2b$"),
    "bcrypt $2y$": lambda password: bcrypt_hash(password, "$2y$"),
    "django pbkdf2_sha256": django_pbkdf2_hash,
    "passlib pbkdf2-sha256": passlib_pbkdf2_hash,
    "PHC pbkdf2-sha256": phc_pbkdf2_hash,
    "PHC scrypt": phc_scrypt_hash,
    "PHC argon2i": argon2_hash,
    "PHC argon2id": lambda password: argon2_hash(password, "argon2id"),
}
"""One maker per accepted format, by the name a report or a test shows."""
