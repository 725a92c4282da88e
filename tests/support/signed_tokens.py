"""Access tokens signed by hand, with any claim changed or left out, for the tests of what the
verifier and the key source accept.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import jwt

from domain.signing_keys import SigningKeySet

ISSUER = "urn:userflow:test"


AUDIENCE = "urn:userflow:test:api"


def signed(keys: SigningKeySet, typ: str | None = "at+jwt", **overrides: Any) -> str:
    """A token with valid claims unless overridden (a None value removes the claim)."""
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
        "roles": ["user"],
        "gen": 0,
        "sid": "family-1",
        "auth_time": now - 60,
        "amr": ["pwd"],
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    private = jwt.PyJWK(keys.current.private_jwk, algorithm="ES256").key
    headers = {"kid": keys.current.kid, "typ": typ}
    # PyJWT adds "typ": "JWT" unless told otherwise; None removes it.
    token = jwt.encode(claims, private, algorithm="ES256", headers=headers)
    if typ is None:
        _, payload, _ = token.split(".")
        unsigned = f"{b64_json({'alg': 'ES256', 'kid': keys.current.kid})}.{payload}"
        signature = private.sign(unsigned.encode(), _ecdsa())
        return f"{unsigned}.{_raw_signature(signature)}"
    return token


def _ecdsa() -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.ECDSA(hashes.SHA256())


def _raw_signature(der: bytes) -> str:
    """JWS carries ES256 signatures as r || s, 32 bytes each (RFC 7518 section 3.4)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64_json(data: dict[str, Any]) -> str:
    """A JWS segment: the JSON of ``data``, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
