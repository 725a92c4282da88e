"""Access tokens: ES256 JWTs signed with the current key of the set (domain/signing_keys.py).

What a token must carry is fixed here, for the issuer and for the verifier
(domain/token_verifier.py) alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from domain.clock import Clock, utc_now
from domain.signing_keys import ALGORITHM, StoredKey

# RFC 9068 section 2.1: access tokens say what they are, so that no other JWT signed with the same
# keys (an ID token, a future token type) is ever taken for one; section 4 allows both spellings.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
ACCEPTED_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/at+jwt"})
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "gen", "auth_time", "amr", "sid"]
MAX_ACCESS_TTL_SECONDS = 15 * 60
# Tolerated clock skew between the signing and the verifying function.
LEEWAY_SECONDS = 10


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
        clock: Clock = utc_now,
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
