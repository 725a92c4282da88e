"""Keys of the second factors: TOTP secrets sealed at rest, recovery codes hashed with a key.

Both come from one random key kept in Secrets Manager (``MfaKeySecret``, read like the MAC keys
through the parameters extension), split by HKDF into a sealing key and a hashing key, so that one
never serves as the other. Why a Secrets Manager key and not a KMS envelope: docs/api/mfa.md.

- A TOTP secret is sealed with AES-256-GCM; the associated data names the user, so a sealed
  secret copied onto another user's item opens for no one. The sealed form names its key
  (``v1.<key id>.<nonce+ciphertext>``): a secret sealed under another key is refused with a clear
  error, never read as garbage.
- A recovery code is hashed with HMAC-SHA-256 under the hashing key: a code has 50 random bits,
  and without the key its hash cannot even be checked offline, while a login needs one hash and
  one look-up instead of ten slow hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED_VERSION = "v1"
NONCE_BYTES = 12
_SEAL_INFO = b"userflow mfa: totp secret sealing key"
_HASH_INFO = b"userflow mfa: recovery code hashing key"


class SealedSecretUnreadable(RuntimeError):
    """A sealed secret that this key cannot open: tampered with, moved to another user, or
    sealed under another key (an operator replaced MfaKeySecret without re-sealing)."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MfaKeys:
    """Seals TOTP secrets and hashes recovery codes; ``master_key`` is read on first use."""

    def __init__(self, master_key: Callable[[], bytes]) -> None:
        self._master_key = master_key

    @cached_property
    def _sealing_key(self) -> bytes:
        return _derive(self._master_key(), _SEAL_INFO)

    @cached_property
    def _hashing_key(self) -> bytes:
        return _derive(self._master_key(), _HASH_INFO)

    @cached_property
    def key_id(self) -> str:
        """Names the sealing key without revealing it."""
        return hashlib.sha256(b"key id" + self._sealing_key).hexdigest()[:8]

    @staticmethod
    def _context(user_id: str) -> bytes:
        return f"userflow:totp:{user_id}".encode()

    def seal(self, secret: str, user_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._sealing_key).encrypt(nonce, secret.encode(), self._context(user_id))
        return f"{SEALED_VERSION}.{self.key_id}.{_b64(nonce + sealed)}"

    def open(self, sealed: str, user_id: str) -> str:
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if version != SEALED_VERSION or key_id != self.key_id:
            raise SealedSecretUnreadable(f"sealed as {version}/{key_id}, key is {self.key_id}")
        try:
            raw = _unb64(body)
            opened = AESGCM(self._sealing_key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._context(user_id)
            )
        except (InvalidTag, ValueError) as error:
            raise SealedSecretUnreadable("sealed secret does not open for this user") from error
        return opened.decode()

    def code_hash(self, normalized_code: str) -> str:
        return hmac.new(self._hashing_key, normalized_code.encode(), hashlib.sha256).hexdigest()
