"""The WebAuthn ceremonies, by py_webauthn (Duo Labs): the options handed to the browser and the
verification of what it answers.

Only the functions that run a ceremony import this module, and py_webauthn is imported on the first
ceremony, not with it: it loads every attestation format, pyOpenSSL and ASN.1 modules, ~100 ms that
login or the passkey list must not pay at cold start (docs/api/passkeys.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.passkeys import StoredPasskey
from domain.users import User
from domain.webauthn_json import AuthenticationCredential, RegistrationCredential

Verified = TypeVar("Verified")
TIMEOUT_MS = 5 * 60 * 1000
"""As long as a challenge lives (domain/passkeys.py, CHALLENGE_LIFETIME)."""


class CeremonyFailed(Exception):
    """The browser's answer does not verify; the reason is for logs, never for callers."""


@dataclass(frozen=True)
class RelyingParty:
    """This service as WebAuthn knows it: its RP ID (a domain the origins are on), the name
    authenticators show, and the web origins the ceremonies may run on."""

    id: str
    name: str
    origins: tuple[str, ...]


@dataclass(frozen=True)
class Options:
    challenge: bytes
    json: dict[str, Any]


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool


@dataclass(frozen=True)
class Assertion:
    sign_count: int
    backup_eligible: bool
    backed_up: bool


def _checked(verify: Callable[[], Verified]) -> Verified:
    """``verify()``, whose every failure is CeremonyFailed: a verifier fed hostile bytes lets the
    CBOR, ASN.1 and key parsers below it raise what they raise."""
    try:
        return verify()
    except Exception as error:
        raise CeremonyFailed(f"{type(error).__name__}: {error}") from error


def _algorithms() -> list[Any]:
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    # ES256 first (every authenticator has it), then EdDSA, then RS256 (Windows Hello's).
    return [
        COSEAlgorithmIdentifier.ECDSA_SHA_256,
        COSEAlgorithmIdentifier.EDDSA,
        COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
    ]


def _descriptors(passkeys: Sequence[tuple[bytes, Sequence[str]]]) -> list[Any]:
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    known = {transport.value for transport in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=credential_id,
            transports=[AuthenticatorTransport(t) for t in transports if t in known] or None,
        )
        for credential_id, transports in passkeys
    ]


def _as_json(options: Any) -> dict[str, Any]:
    from webauthn import options_to_json

    converted: dict[str, Any] = json.loads(options_to_json(options))
    return converted


def registration_options(
    rp: RelyingParty, user: User, existing: Sequence[StoredPasskey]
) -> Options:
    """A discoverable credential with user verification, never a second one on an authenticator
    that already holds one of ``existing`` (``excludeCredentials``)."""
    from webauthn import generate_registration_options
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        # The user handle is the user id (random, no personal data): a discoverable sign-in
        # names its user by it.
        user_id=user.id.encode(),
        user_name=user.email,
        user_display_name=user.name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors([(p.credential_id, p.transports) for p in existing]),
        supported_pub_key_algs=_algorithms(),
    )
    return Options(options.challenge, _as_json(options))


def authentication_options(
    rp: RelyingParty, allowed: Sequence[tuple[bytes, Sequence[str]]]
) -> Options:
    """``allowed`` empty: any discoverable credential of this RP (the user picks one)."""
    from webauthn import generate_authentication_options
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Options(options.challenge, _as_json(options))


def verify_registration(
    rp: RelyingParty, credential: RegistrationCredential, challenge: bytes
) -> NewCredential:
    from webauthn import verify_registration_response
    from webauthn.helpers.structs import CredentialDeviceType

    verified = _checked(
        lambda: verify_registration_response(
            credential=credential.as_json(),
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_verification=True,
            supported_pub_key_algs=_algorithms(),
        )
    )
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )


def verify_authentication(
    rp: RelyingParty,
    credential: AuthenticationCredential,
    challenge: bytes,
    passkey: StoredPasskey,
) -> Assertion:
    """The signature, origin, RP ID, challenge and user verification. The counter is left to the
    caller (``credential_current_sign_count=0``): a counter that went backwards means a cloned
    key, which must be told apart from a forgery, and only a valid signature can tell it."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.structs import CredentialDeviceType

    verified = _checked(
        lambda: verify_authentication_response(
            credential=credential.as_json(),
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    )
    return Assertion(
        sign_count=verified.new_sign_count,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )
