"""Password hashing with scrypt at OWASP cost (the policy: ``domain/password_policy.py``).

Hashes carry their parameters (``scrypt$ln$r$p$salt$hash``) so the cost can be raised later and
old hashes are re-hashed on the next successful login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

# OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 (128 MiB, ~0.6 s per core here).
PRODUCTION_LOG2_N = 17
COST_ENV = "USERFLOW_SCRYPT_LOG2_N"
TEST_COST_ENV = "USERFLOW_ALLOW_TEST_HASH_COST"


@dataclass(frozen=True)
class ScryptCost:
    log2_n: int = PRODUCTION_LOG2_N
    r: int = 8
    p: int = 1

    @classmethod
    def from_environment(cls) -> ScryptCost:
        """Production cost unless a test run explicitly opts into a cheaper one."""
        configured = os.environ.get(COST_ENV)
        if configured is None:
            return cls()
        log2_n = int(configured)
        if log2_n < PRODUCTION_LOG2_N and os.environ.get(TEST_COST_ENV) != "1":
            raise RuntimeError(f"{COST_ENV} below {PRODUCTION_LOG2_N} is for tests only")
        return cls(log2_n=log2_n)

    @property
    def maxmem(self) -> int:
        return 129 * self.r * (1 << self.log2_n) + 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


class PasswordHasher:
    def __init__(self, cost: ScryptCost | None = None) -> None:
        self.cost = cost or ScryptCost.from_environment()

    def _derive(self, password: str, salt: bytes, cost: ScryptCost) -> bytes:
        return hashlib.scrypt(
            password.encode(),
            salt=salt,
            n=2**cost.log2_n,
            r=cost.r,
            p=cost.p,
            maxmem=cost.maxmem,
            dklen=32,
        )

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        c = self.cost
        digest = self._derive(password, salt, c)
        return f"scrypt${c.log2_n}${c.r}${c.p}${_b64(salt)}${_b64(digest)}"

    def unmatchable_hash(self) -> str:
        """A hash at the current cost that no password matches (a random digest), made without
        running the KDF: verifying against it costs exactly as much as a real check."""
        c = self.cost
        salt, digest = secrets.token_bytes(16), secrets.token_bytes(32)
        return f"scrypt${c.log2_n}${c.r}${c.p}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, log2_n, r, p, salt, digest = encoded.split("$")
            cost = ScryptCost(int(log2_n), int(r), int(p))
        except ValueError:
            return False
        if scheme != "scrypt":
            return False
        return hmac.compare_digest(self._derive(password, _unb64(salt), cost), _unb64(digest))

    def needs_rehash(self, encoded: str) -> bool:
        parts = encoded.split("$")
        current = [str(self.cost.log2_n), str(self.cost.r), str(self.cost.p)]
        return parts[0] != "scrypt" or parts[1:4] != current
