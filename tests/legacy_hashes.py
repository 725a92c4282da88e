"""Password hashes as earlier releases stored them (scrypt), to test that they keep working."""

from __future__ import annotations

import base64
import hashlib
import secrets

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
