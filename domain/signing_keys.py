"""The signing key set: ES256 (P-256) keys and their life cycle, staged, signing, retired.

The private key set lives in Secrets Manager and the public JWKS in an SSM parameter (see
``adapters/key_store.py``); this module only knows their JSON shapes, so it stays free of AWS.
Tokens are signed in domain/tokens.py and verified in domain/token_verifier.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.clock import utc_now

ALGORITHM = "ES256"
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def key_thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint: a kid derived from the key itself, so it cannot collide by accident."""
    canonical = json.dumps(
        {name: public_jwk[name] for name in sorted(_PUBLIC_MEMBERS)}, separators=(",", ":")
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


class StoredKey(BaseModel):
    """One signing key as kept in the secret: the private JWK and its life cycle."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kid: str
    private_jwk: dict[str, Any] = Field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None
    expires_at: datetime | None = None
    """Set when retired; after it nothing this key signed is accepted, rotated again or not."""
    signs_from: datetime | None = None
    """Set while staged (published, not signing): the instant from which it may sign, when
    every verifier's cached JWKS holds it."""

    def public_jwk(self) -> dict[str, Any]:
        public = {name: self.private_jwk[name] for name in _PUBLIC_MEMBERS}
        jwk = {**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}
        if self.expires_at is not None:
            # An extra JWK member (RFC 7517 section 4: ignored by verifiers that do not know it).
            jwk["exp"] = int(self.expires_at.timestamp())
        return jwk

    def retire(self, now: datetime, retain: timedelta) -> StoredKey:
        retired_at = self.retired_at or now
        expires_at = retired_at + retain
        if self.expires_at is not None:
            expires_at = min(expires_at, self.expires_at)
        return self.model_copy(update={"retired_at": retired_at, "expires_at": expires_at})


class KeyNotReady(ValueError):
    """The staged key may not sign yet: some verifier's cached JWKS may still lack it."""

    def __init__(self, key: StoredKey) -> None:
        super().__init__(f"{key.kid} may sign from {key.signs_from:%Y-%m-%d %H:%M:%S} UTC")
        self.key = key


class NothingStaged(ValueError):
    """No key is staged to become the signing key."""


class SigningKeySet(BaseModel):
    """The private key set: ``keys[0]`` signs; retired keys stay published while tokens live;
    ``staged`` is published ahead of signing (a key signs only once verifiers know it)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    keys: list[StoredKey] = Field(min_length=1)
    staged: StoredKey | None = None

    @property
    def current(self) -> StoredKey:
        return self.keys[0]

    @classmethod
    def parse(cls, text: str | None) -> SigningKeySet | None:
        """None for an empty or placeholder secret (not provisioned yet)."""
        if not text:
            return None
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            return None

    def public_jwks(self) -> dict[str, Any]:
        published = [*self.keys, *([self.staged] if self.staged else [])]
        return {"keys": [key.public_jwk() for key in published]}

    def rotated(self, now: datetime, retain_retired: timedelta) -> SigningKeySet:
        """A new current key at once; the old current is retired now and, like every retired
        key, kept (published) for ``retain_retired``: zero drops them at once (after a key
        compromise), the staged key included. Verifiers refuse a retired key past its
        ``expires_at`` even if no rotation follows. Only for emergencies: the new key signs
        before verifiers that cached the JWKS know it (``activated`` never does)."""
        retired = [key.retire(now, retain_retired) for key in self.keys]
        kept = [key for key in retired if key.expires_at and key.expires_at > now]
        return SigningKeySet(keys=[generate_signing_key(now), *kept])

    def with_staged(self, now: datetime, signs_from: datetime) -> SigningKeySet:
        """A new key staged: published from now, signing from ``signs_from`` at the earliest.
        A key staged before is replaced: it never signed, so nothing needs it."""
        staged = generate_signing_key(now).model_copy(update={"signs_from": signs_from})
        return self.model_copy(update={"staged": staged})

    def activated(self, now: datetime, retain_retired: timedelta) -> SigningKeySet:
        """The staged key signs from now; the old current key is retired and stays published
        for ``retain_retired`` (until the last token it signed has expired). KeyNotReady before
        the staged key's ``signs_from``, NothingStaged without one."""
        staged = self.staged
        if staged is None:
            raise NothingStaged("no key is staged")
        if staged.signs_from is not None and staged.signs_from > now:
            raise KeyNotReady(staged)
        retired = [key.retire(now, retain_retired) for key in self.keys]
        kept = [key for key in retired if key.expires_at and key.expires_at > now]
        return SigningKeySet(keys=[staged, *kept])


def generate_signing_key(now: datetime | None = None) -> StoredKey:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private, as_dict=True)
    return StoredKey(kid=key_thumbprint(jwk), private_jwk=jwk, created_at=now or utc_now())


def new_key_set(now: datetime | None = None) -> SigningKeySet:
    return SigningKeySet(keys=[generate_signing_key(now)])
