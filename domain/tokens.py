"""Access tokens: ES256 JWTs signed with a rotating key set, verified against the public JWKS.

The private key set lives in Secrets Manager and the public JWKS in an SSM parameter (see
``adapters/key_store.py``); this module only knows their JSON shapes, so it stays free of AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ALGORITHM = "ES256"
# Pinned so that a token can never pick its own verification rule (alg "none", HS256 with the
# public key as the secret, ...).
ALGORITHMS = [ALGORITHM]
# RFC 9068 section 2.1: access tokens say what they are, so that no other JWT signed with the same
# keys (an ID token, a future token type) is ever taken for one; section 4 allows both spellings.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
ACCEPTED_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/at+jwt"})
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "gen", "auth_time", "amr", "sid"]
MAX_ACCESS_TTL_SECONDS = 15 * 60
# Tolerated clock skew between the signing and the verifying function.
LEEWAY_SECONDS = 10
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


class InvalidToken(Exception):
    """The token must not be trusted; the reason is for logs, never for callers."""


class UnknownSigningKey(InvalidToken):
    """The token names a key the JWKS does not (yet) hold: worth one refresh of the JWKS."""


class SigningKeyMissing(RuntimeError):
    """No signing key was provisioned: run `userflow keys ensure`."""


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    access_ttl_seconds: int = MAX_ACCESS_TTL_SECONDS

    def __post_init__(self) -> None:
        if not 0 < self.access_ttl_seconds <= MAX_ACCESS_TTL_SECONDS:
            raise ValueError(f"access token TTL must be 1..{MAX_ACCESS_TTL_SECONDS} seconds")


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

    model_config = ConfigDict(frozen=True)

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

    model_config = ConfigDict(frozen=True)

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
    return StoredKey(kid=key_thumbprint(jwk), private_jwk=jwk, created_at=now or datetime.now(UTC))


def new_key_set(now: datetime | None = None) -> SigningKeySet:
    return SigningKeySet(keys=[generate_signing_key(now)])


@dataclass(frozen=True)
class SessionClaims:
    """What every access token of one session (a refresh family) says about how it began: the
    family (``sid``, so its tokens die with it), the login's time (``auth_time``) and its methods
    (``amr``, RFC 8176). Refresh keeps all three; only a new login changes them."""

    family_id: str
    auth_time: datetime
    amr: tuple[str, ...]


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class TokenIssuer:
    """Signs access tokens with the current key of a key set."""

    def __init__(
        self,
        key: StoredKey,
        settings: TokenSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._kid = key.kid
        private_key = ECAlgorithm.from_jwk(key.private_jwk)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise SigningKeyMissing(f"key {key.kid} has no private part")
        self._private_key = private_key
        self._settings = settings
        self._clock = clock

    def issue(
        self,
        user_id: str,
        roles: list[str],
        session_generation: int = 0,
        *,
        session: SessionClaims,
    ) -> AccessToken:
        now = self._clock()
        ttl = self._settings.access_ttl_seconds
        claims = {
            "sub": user_id,
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": str(uuid.uuid4()),
            "roles": roles,
            "gen": session_generation,
            "sid": session.family_id,
            "auth_time": int(session.auth_time.timestamp()),
            "amr": list(session.amr),
        }
        token = jwt.encode(
            claims,
            self._private_key,
            algorithm=ALGORITHM,
            headers={"kid": self._kid, "typ": ACCESS_TOKEN_TYPE},
        )
        return AccessToken(token=token, expires_in=ttl)


@dataclass(frozen=True)
class AccessClaims:
    """What a verified token says about its bearer."""

    sub: str
    roles: tuple[str, ...]
    iat: int
    session_generation: int
    family_id: str
    auth_time: int
    """Epoch seconds of the login that started the session."""
    amr: tuple[str, ...]


class TokenVerifier:
    """Verifies access tokens against a public JWKS, with the algorithm and claims pinned."""

    def __init__(
        self,
        jwks: Mapping[str, Any],
        issuer: str,
        audience: str,
        clock: Callable[[], float] = time.time,
        *,
        max_lifetime_seconds: int = MAX_ACCESS_TTL_SECONDS,
    ) -> None:
        """``max_lifetime_seconds``: tokens whose ``exp - iat`` is longer are refused, even when
        correctly signed (a leaked key must not mint long-lived tokens)."""
        self._keys: dict[str, tuple[Any, float]] = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256" and jwk.get("kid"):
                expires = float(jwk.get("exp", "inf"))
                self._keys[jwk["kid"]] = (jwt.PyJWK(jwk, algorithm=ALGORITHM).key, expires)
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._max_lifetime = max_lifetime_seconds

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed token") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        if header.get("typ") not in ACCEPTED_TYPES:
            raise InvalidToken("not an access token (typ)")
        found = self._keys.get(str(header.get("kid")))
        if found is None:
            raise UnknownSigningKey("kid not in the JWKS")
        key, expires = found
        if self._clock() >= expires:
            raise InvalidToken("signing key expired")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        sub, roles, generation = claims["sub"], claims.get("roles", []), claims["gen"]
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("sub must be a non-empty string")
        if claims["exp"] - claims["iat"] > self._max_lifetime:
            raise InvalidToken("lifetime longer than allowed")
        if type(generation) is not int or generation < 0:
            raise InvalidToken("gen must be a non-negative integer")
        # Roles travel comma-joined in the authorizer context, so a comma would forge a role.
        if not _names(roles):
            raise InvalidToken("roles must be a list of role names")
        family_id, auth_time, amr = _session_of(claims)
        return AccessClaims(
            sub=sub,
            roles=tuple(roles),
            iat=int(claims["iat"]),
            session_generation=generation,
            family_id=family_id,
            auth_time=auth_time,
            amr=amr,
        )


def _session_of(claims: Mapping[str, Any]) -> tuple[str, int, tuple[str, ...]]:
    """``sid``, ``auth_time`` and ``amr``, once each has its expected shape."""
    family_id, auth_time, amr = claims["sid"], claims["auth_time"], claims["amr"]
    if not isinstance(family_id, str) or not family_id or len(family_id) > MAX_NAME_LENGTH:
        raise InvalidToken("sid must be a non-empty string")
    # A session cannot have begun after its token was issued, nor before the epoch.
    if type(auth_time) is not int or not 0 <= auth_time <= claims["iat"] + LEEWAY_SECONDS:
        raise InvalidToken("auth_time must be an instant before iat")
    if not _names(amr):
        raise InvalidToken("amr must be a list of method names")
    return family_id, auth_time, tuple(amr)


MAX_NAME_LENGTH = 64


def _names(value: object) -> bool:
    """A list of short names, each safe to join with commas."""
    return isinstance(value, list) and all(
        isinstance(name, str) and name and "," not in name and len(name) <= MAX_NAME_LENGTH
        for name in value
    )
