"""Password hashing: argon2id (argon2-cffi) at more than OWASP's minimum cost (the policy:
``domain/password_policy.py``).

Hashes carry their algorithm and cost (PHC format, ``$argon2id$v=19$m=..,t=..,p=..$salt$hash``), so
the cost can be raised later. Hashes of earlier releases (``scrypt$log2N$r$p$salt$hash``) still
verify and are replaced by an argon2id hash on the next successful login (``needs_rehash``), as
are hashes imported from other systems (``domain/password_formats.py``).
The cost was chosen with ``python -m scripts.calibrate_password_hash`` (docs/api/auth.md,
"Passwords").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from domain.users import UNUSABLE_PREFIX, is_unusable_hash

if TYPE_CHECKING:
    from argon2 import PasswordHasher as Argon2

# argon2id's memory per hash is 2^k KiB with k from COST_ENV; below the production cost only with
# TEST_COST_ENV=1 (tests). The template never sets either variable.
COST_ENV = "USERFLOW_ARGON2_MEMORY_LOG2_KIB"
TEST_COST_ENV = "USERFLOW_ALLOW_TEST_HASH_COST"
RENAMED_COST_ENV = "USERFLOW_SCRYPT_LOG2_N"
"""COST_ENV's name from the scrypt days: refused rather than ignored, so a setup that still sets
it is not silently run at the production cost."""
ARGON2ID_PREFIX = "$argon2id$"
SCRYPT_PREFIX = "scrypt$"
SALT_BYTES = 16
DIGEST_BYTES = 32


@dataclass(frozen=True)
class Argon2Cost:
    """argon2id parameters: memory in KiB, passes over it, lanes."""

    memory_kib: int
    time_cost: int
    parallelism: int = 1

    @classmethod
    def from_environment(cls) -> Argon2Cost:
        """Production cost unless a test run explicitly opts into a cheaper one."""
        if RENAMED_COST_ENV in os.environ:
            raise RuntimeError(
                f"{RENAMED_COST_ENV} is now {COST_ENV} (argon2id memory per hash, 2^k KiB)"
            )
        configured = os.environ.get(COST_ENV)
        if configured is None:
            return PRODUCTION_COST
        cost = cls(memory_kib=2 ** int(configured), time_cost=PRODUCTION_COST.time_cost)
        if cost.memory_kib < PRODUCTION_COST.memory_kib and os.environ.get(TEST_COST_ENV) != "1":
            raise RuntimeError(f"{COST_ENV} below the production cost is for tests only")
        return cost

    def encode(self, salt: bytes, digest: bytes) -> str:
        """The PHC string argon2id writes for this cost, salt and digest."""
        return (
            f"{ARGON2ID_PREFIX}v=19$m={self.memory_kib},t={self.time_cost},p={self.parallelism}"
            f"${_b64(salt)}${_b64(digest)}"
        )


# OWASP Password Storage Cheat Sheet: at least m=19 MiB, t=2, p=1 (or m=46 MiB, t=1). This is the
# memory of its first option with the passes of its second: ~140 ms per hash on one core here
# (the calibration's figures: docs/api/auth.md, "Passwords"), a fifth of scrypt N=2^17's time.
OWASP_MINIMUM = Argon2Cost(memory_kib=19 * 1024, time_cost=2)
PRODUCTION_COST = Argon2Cost(memory_kib=46 * 1024, time_cost=2)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _secret_bytes(password: str) -> bytes:
    """UTF-8, lone surrogates included (JSON can carry them): every string hashes, none fails."""
    return password.encode("utf-8", "surrogatepass")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


class PasswordHasher:
    def __init__(self, cost: Argon2Cost | None = None) -> None:
        self.cost = cost or Argon2Cost.from_environment()

    @cached_property
    def _argon2(self) -> Argon2:
        """Loaded by the first hash or check: most functions that hold a hasher never use it."""
        from argon2 import PasswordHasher as Argon2
        from argon2 import Type

        return Argon2(
            time_cost=self.cost.time_cost,
            memory_cost=self.cost.memory_kib,
            parallelism=self.cost.parallelism,
            hash_len=DIGEST_BYTES,
            salt_len=SALT_BYTES,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._argon2.hash(_secret_bytes(password))

    def unmatchable_hash(self) -> str:
        """A hash at the current cost that no password matches (a random digest), made without
        running the KDF: verifying against it costs exactly as much as a real check."""
        return self.cost.encode(secrets.token_bytes(SALT_BYTES), secrets.token_bytes(DIGEST_BYTES))

    def unusable_hash(self) -> str:
        """What a passwordless user stores instead of a hash: no password matches it, and a
        password login against it costs a full check, so it cannot be told from a wrong one."""
        return UNUSABLE_PREFIX + self.unmatchable_hash()

    def verify(self, password: str, encoded: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        if is_unusable_hash(encoded):
            # After the marker (and any note, domain/user_migration.py) an unmatchable argon2id
            # hash: checking against it costs what a real check does.
            tail = encoded.find("$")
            if tail > 0:
                self.verify(password, encoded[tail:])
            return False
        if encoded.startswith(ARGON2ID_PREFIX) and not self.needs_rehash(encoded):
            try:
                return self._argon2.verify(encoded, _secret_bytes(password))
            except (VerificationError, InvalidHashError):
                return False
        if encoded.startswith(SCRYPT_PREFIX):
            return _verify_scrypt(password, encoded)
        # An imported hash (bcrypt, pbkdf2, argon2 at another cost...), its cost bounded: its
        # module loads only for such a user.
        from domain.password_formats import verify_foreign

        return verify_foreign(_secret_bytes(password), encoded)

    def needs_rehash(self, encoded: str) -> bool:
        """True for every hash but an argon2id one at exactly the current cost."""
        from argon2.exceptions import InvalidHashError

        if not encoded.startswith(ARGON2ID_PREFIX):
            return True
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True


def _verify_scrypt(password: str, encoded: str) -> bool:
    """A hash of an earlier release: ``scrypt$log2N$r$p$salt$hash`` (verified, never made)."""
    try:
        _scheme, log2_n, r, p, salt, digest = encoded.split("$")
        n, block = 2 ** int(log2_n), int(r)
        derived = hashlib.scrypt(
            _secret_bytes(password),
            salt=_unb64(salt),
            n=n,
            r=block,
            p=int(p),
            maxmem=129 * block * n + 1024 * 1024,
            dklen=DIGEST_BYTES,
        )
        return hmac.compare_digest(derived, _unb64(digest))
    except (ValueError, OverflowError):  # malformed fields or parameters scrypt refuses
        return False
