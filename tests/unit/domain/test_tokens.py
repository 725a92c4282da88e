"""Access tokens: what the verifier accepts, everything it must refuse, and key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from domain.signing_keys import SigningKeySet, generate_signing_key, key_thumbprint, new_key_set
from domain.token_verifier import AccessClaims, InvalidToken, TokenVerifier, UnknownSigningKey
from domain.tokens import SessionClaims, TokenIssuer, TokenSettings

ISSUER = "urn:userflow:test"
AUDIENCE = "urn:userflow:test:api"
SETTINGS = TokenSettings(issuer=ISSUER, audience=AUDIENCE, access_ttl_seconds=900)
LOGIN_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SESSION = SessionClaims(family_id="family-1", auth_time=LOGIN_TIME, amr=("pwd",))


@pytest.fixture
def keys() -> SigningKeySet:
    return new_key_set()


def verifier_for(keys: SigningKeySet) -> TokenVerifier:
    return TokenVerifier(keys.public_jwks(), ISSUER, AUDIENCE)


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
        unsigned = f"{_b64({'alg': 'ES256', 'kid': keys.current.kid})}.{payload}"
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


def issue(keys: SigningKeySet, user_id: str) -> str:
    return TokenIssuer(keys.current, SETTINGS).issue(user_id, ["user"], session=SESSION).token


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_given_an_issued_token_when_verified_then_its_claims_come_back(
    keys: SigningKeySet,
) -> None:
    session = SessionClaims(family_id="family-1", auth_time=LOGIN_TIME, amr=("pwd", "otp"))
    issued = TokenIssuer(keys.current, SETTINGS).issue(
        "user-1", ["user", "admin"], 3, session=session
    )

    claims = verifier_for(keys).verify(issued.token)

    assert claims == AccessClaims(
        sub="user-1",
        roles=("user", "admin"),
        iat=claims.iat,
        session_generation=3,
        family_id="family-1",
        auth_time=int(LOGIN_TIME.timestamp()),
        amr=("pwd", "otp"),
    )
    assert issued.expires_in == 900
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "ES256", "kid": keys.current.kid, "typ": "at+jwt"}
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(payload) == {
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "jti",
        "roles",
        "gen",
        "sid",
        "auth_time",
        "amr",
    }
    assert payload["exp"] - payload["iat"] == 900
    assert payload["amr"] == ["pwd", "otp"]


def test_given_two_tokens_when_issued_then_each_has_its_own_jti(keys: SigningKeySet) -> None:
    issuer = TokenIssuer(keys.current, SETTINGS)

    first, second = (issuer.issue("u", ["user"], session=SESSION).token for _ in range(2))

    def jti(token: str) -> str:
        return str(jwt.decode(token, options={"verify_signature": False})["jti"])

    assert jti(first) != jti(second)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(datetime.now(UTC).timestamp()) - 60}, id="expired"),
        pytest.param({"iat": int(datetime.now(UTC).timestamp()) + 3600}, id="iat-in-future"),
        pytest.param({"nbf": int(datetime.now(UTC).timestamp()) + 3600}, id="not-before"),
        pytest.param({"aud": "urn:someone:else"}, id="wrong-aud"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-iss"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"aud": None}, id="no-aud"),
        pytest.param({"iss": None}, id="no-iss"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"sub": ""}, id="empty-sub"),
        pytest.param({"roles": "admin"}, id="roles-not-a-list"),
        pytest.param({"roles": ["user,admin"]}, id="comma-forges-a-role"),
        pytest.param({"gen": None}, id="no-session-generation"),
        pytest.param({"gen": "0"}, id="session-generation-not-an-integer"),
        pytest.param({"gen": True}, id="session-generation-a-boolean"),
        pytest.param({"gen": -1}, id="negative-session-generation"),
        pytest.param({"sid": None}, id="no-session"),
        pytest.param({"sid": ""}, id="empty-session"),
        pytest.param({"sid": 7}, id="session-not-a-string"),
        pytest.param({"sid": "f" * 65}, id="session-too-long"),
        pytest.param({"auth_time": None}, id="no-auth-time"),
        pytest.param({"auth_time": "1700000000"}, id="auth-time-a-string"),
        pytest.param({"auth_time": 1.5}, id="auth-time-a-float"),
        pytest.param({"auth_time": True}, id="auth-time-a-boolean"),
        pytest.param({"auth_time": -1}, id="auth-time-before-the-epoch"),
        pytest.param(
            {"auth_time": int(datetime.now(UTC).timestamp()) + 3600}, id="auth-time-after-iat"
        ),
        pytest.param({"amr": None}, id="no-amr"),
        pytest.param({"amr": "pwd"}, id="amr-not-a-list"),
        pytest.param({"amr": ["pwd,otp"]}, id="comma-forges-a-method"),
        pytest.param({"amr": [""]}, id="empty-method"),
        pytest.param({"amr": [{"pwd": 1}]}, id="method-not-a-string"),
        pytest.param(
            {"exp": int(datetime.now(UTC).timestamp()) + 24 * 3600}, id="lifetime-of-a-day"
        ),
        pytest.param(
            {
                "iat": int(datetime.now(UTC).timestamp()) - 900,
                "exp": int(datetime.now(UTC).timestamp()) + 1,
            },
            id="lifetime-one-second-over-15-minutes",
        ),
    ],
)
def test_given_bad_claims_when_verified_then_rejected(
    keys: SigningKeySet, overrides: dict[str, Any]
) -> None:
    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(signed(keys, **overrides))


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "at+JWT ", "id+jwt", "application/jwt"])
def test_given_a_token_not_typed_as_an_access_token_when_verified_then_rejected(
    keys: SigningKeySet, typ: str | None
) -> None:
    """RFC 9068 section 4: any other JWT signed with these keys is not an access token."""
    with pytest.raises(InvalidToken, match="typ"):
        verifier_for(keys).verify(signed(keys, typ=typ))


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt"])
def test_given_either_spelling_of_the_access_token_type_when_verified_then_accepted(
    keys: SigningKeySet, typ: str
) -> None:
    assert verifier_for(keys).verify(signed(keys, typ=typ)).family_id == "family-1"


def test_given_a_lifetime_over_the_configured_maximum_when_verified_then_rejected(
    keys: SigningKeySet,
) -> None:
    now = int(datetime.now(UTC).timestamp())
    verifier = TokenVerifier(keys.public_jwks(), ISSUER, AUDIENCE, max_lifetime_seconds=300)

    verifier.verify(signed(keys, iat=now, exp=now + 300))
    with pytest.raises(InvalidToken):
        verifier.verify(signed(keys, iat=now, exp=now + 301))


def test_given_a_tampered_payload_when_verified_then_rejected(keys: SigningKeySet) -> None:
    header, _, signature = signed(keys).split(".")
    now = int(datetime.now(UTC).timestamp())
    forged = {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    forged["roles"] = ["user", "admin"]

    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(f"{header}.{_b64(forged)}.{signature}")


def test_given_alg_none_when_verified_then_rejected(keys: SigningKeySet) -> None:
    _, payload, _ = signed(keys).split(".")
    header = _b64({"alg": "none", "typ": "JWT", "kid": keys.current.kid})

    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(f"{header}.{payload}.")


def test_given_hs256_signed_with_the_public_key_when_verified_then_rejected(
    keys: SigningKeySet,
) -> None:
    public_pem = jwt.PyJWK(keys.current.public_jwk()).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60}
    # PyJWT refuses to HMAC with a PEM key, as an attacker's library would not: sign by hand.
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": keys.current.kid})
    body = _b64(claims)
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(token)


def test_given_a_key_not_in_the_jwks_when_verified_then_rejected_as_unknown(
    keys: SigningKeySet,
) -> None:
    stranger = new_key_set()

    with pytest.raises(UnknownSigningKey):
        verifier_for(keys).verify(signed(stranger))


def test_given_a_known_kid_but_another_keys_signature_when_verified_then_rejected(
    keys: SigningKeySet,
) -> None:
    impostor = SigningKeySet(
        keys=[generate_signing_key().model_copy(update={"kid": keys.current.kid})]
    )

    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(signed(impostor))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "x" * 5000])
def test_given_garbage_when_verified_then_rejected(keys: SigningKeySet, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verifier_for(keys).verify(garbage)


def test_given_a_rotation_when_old_tokens_are_verified_then_valid_until_the_old_key_is_dropped(
    keys: SigningKeySet,
) -> None:
    old_token = issue(keys, "user-1")
    rotated_at = datetime.now(UTC)

    rotated = keys.rotated(rotated_at, retain_retired=timedelta(minutes=25))
    new_token = issue(rotated, "user-1")

    assert rotated.current.kid != keys.current.kid
    assert verifier_for(rotated).verify(old_token).sub == "user-1"
    assert verifier_for(rotated).verify(new_token).sub == "user-1"
    later = rotated.rotated(rotated_at + timedelta(minutes=26), timedelta(minutes=25))
    assert [k.kid for k in later.keys] == [later.current.kid, rotated.current.kid]
    with pytest.raises(UnknownSigningKey):
        verifier_for(later).verify(old_token)


def test_given_a_rotation_and_no_other_when_the_retention_has_passed_then_old_tokens_are_refused(
    keys: SigningKeySet,
) -> None:
    old_token = issue(keys, "user-1")
    rotated_at = datetime.now(UTC)
    rotated = keys.rotated(rotated_at, retain_retired=timedelta(minutes=25))
    new_token = issue(rotated, "user-1")

    def verifier_at(minutes: int) -> TokenVerifier:
        moment = rotated_at + timedelta(minutes=minutes)
        return TokenVerifier(rotated.public_jwks(), ISSUER, AUDIENCE, clock=lambda: moment)

    assert verifier_at(24).verify(old_token).sub == "user-1"
    with pytest.raises(InvalidToken, match="expired"):
        verifier_at(26).verify(old_token)
    assert verifier_at(26).verify(new_token).sub == "user-1"


def test_given_a_shorter_retention_later_when_rotating_again_then_it_never_extends_a_key(
    keys: SigningKeySet,
) -> None:
    now = datetime.now(UTC)

    once = keys.rotated(now, retain_retired=timedelta(minutes=5))
    twice = once.rotated(now + timedelta(minutes=1), retain_retired=timedelta(hours=1))

    assert twice.keys[2].kid == keys.current.kid
    assert twice.keys[2].expires_at == now + timedelta(minutes=5)


def test_given_a_compromise_when_rotating_with_no_retention_then_old_tokens_die_at_once(
    keys: SigningKeySet,
) -> None:
    old_token = signed(keys)

    rotated = keys.rotated(datetime.now(UTC), retain_retired=timedelta(0))

    assert len(rotated.keys) == 1
    with pytest.raises(UnknownSigningKey):
        verifier_for(rotated).verify(old_token)


def test_given_a_key_set_when_published_then_the_jwks_has_no_private_part(
    keys: SigningKeySet,
) -> None:
    jwks = keys.rotated(datetime.now(UTC), timedelta(minutes=5)).public_jwks()

    assert len(jwks["keys"]) == 2
    for jwk in jwks["keys"]:
        assert set(jwk) - {"exp"} == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert jwk["kid"] == key_thumbprint(jwk)
    assert ["exp" in jwk for jwk in jwks["keys"]] == [False, True]  # only the retired key ends


@pytest.mark.parametrize("text", [None, "", "not json", '{"keys": []}', "A1b2C3d4" * 4])
def test_given_an_unprovisioned_secret_when_parsed_then_no_key_set(text: str | None) -> None:
    assert SigningKeySet.parse(text) is None


@pytest.mark.parametrize("ttl", [0, 901])
def test_given_a_ttl_outside_15_minutes_when_configured_then_refused(ttl: int) -> None:
    with pytest.raises(ValueError, match="TTL"):
        TokenSettings(issuer=ISSUER, audience=AUDIENCE, access_ttl_seconds=ttl)
