"""Verifying access tokens against the public JWKS, with the algorithm and claims pinned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from domain.clock import Clock, utc_now
from domain.signing_keys import ALGORITHM
from domain.tokens import ACCEPTED_TYPES, LEEWAY_SECONDS, MAX_ACCESS_TTL_SECONDS, REQUIRED_CLAIMS

# Pinned so that a token can never pick its own verification rule (alg "none", HS256 with the
# public key as the secret, ...).
ALGORITHMS = [ALGORITHM]


class InvalidToken(Exception):
    """The token must not be trusted; the reason is for logs, never for callers."""


class UnknownSigningKey(InvalidToken):
    """The token names a key the JWKS does not (yet) hold: worth one refresh of the JWKS."""


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
        clock: Clock = utc_now,
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
        if self._clock().timestamp() >= expires:
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
