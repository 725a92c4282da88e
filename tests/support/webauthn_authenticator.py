"""A software passkey authenticator that drives real WebAuthn ceremonies (tests,
docs/api/passkeys.md).

It plays both the browser and the authenticator: :meth:`SoftAuthenticator.create` answers the
``options`` of ``POST /users/me/passkeys/options`` as ``navigator.credentials.create()`` followed
by ``PublicKeyCredential.toJSON()`` would, and :meth:`SoftAuthenticator.get` answers those of
``POST /auth/passkey/options``. The encodings (authenticator data, attestation object, client
data, COSE key) are fido2's, Yubico's library; the keys are ES256, made and used by
``cryptography``. Nothing of the server is mocked: what it verifies is a real signature.

soft-webauthn would do for presence-only tests, but it sets only the user-presence flag (this
server requires user verification), holds one credential and pins ``fido2<2``, which needs a
``cryptography`` older than the one py_webauthn requires. This one sets UV, can claim a synced
(backup-eligible) passkey, keeps several credentials and can be copied, to play a cloned key.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

FLAG = AuthenticatorData.FLAG


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CeremonyRefused(Exception):
    """What the browser would answer with a DOMException (InvalidStateError, NotAllowedError)."""


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """``origin``: the page the ceremonies run on, as the browser reports it in client data.

    ``synced``: a passkey the authenticator backs up (iCloud Keychain, Google Password Manager):
    the backup-eligible and backed-up flags are set. ``counter_step``: how much the signature
    counter grows per assertion (0: an authenticator without a counter, as synced ones are).
    ``verifies_user``: sets the UV flag (a PIN or a biometric was checked)."""

    origin: str = "http://localhost:3000"
    synced: bool = False
    counter_step: int = 1
    verifies_user: bool = True
    aaguid: bytes = bytes(16)
    credentials: list[SoftCredential] = field(default_factory=list)

    # ------------------------------------------------------------ navigator.credentials.create
    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """A new discoverable credential for ``options`` (PublicKeyCredentialCreationOptions
        JSON); the ``credential`` to send to ``POST /users/me/passkeys``."""
        rp_id = options["rp"]["id"]
        if not any(p.get("alg") == -7 for p in options.get("pubKeyCredParams", [])):
            raise CeremonyRefused("NotSupportedError: ES256 is not among pubKeyCredParams")
        excluded = {from_b64url(c["id"]) for c in options.get("excludeCredentials", [])}
        if any(c.credential_id in excluded for c in self.credentials):
            raise CeremonyRefused("InvalidStateError: this authenticator is already registered")
        credential = SoftCredential(
            credential_id=os.urandom(32),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id,
            user_handle=from_b64url(options["user"]["id"]),
        )
        self.credentials.append(credential)
        attested = AttestedCredentialData.create(
            self.aaguid,
            credential.credential_id,
            ES256.from_cryptography_key(credential.private_key.public_key()),  # type: ignore[no-untyped-call]
        )
        authenticator_data = AuthenticatorData.create(
            _sha256(rp_id.encode()), self._flags() | FLAG.AT, credential.sign_count, attested
        )
        attestation = AttestationObject.create("none", authenticator_data, {})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._public_key_credential(
            credential,
            {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(bytes(attestation)),
                "transports": ["hybrid", "internal"] if self.synced else ["usb"],
            },
        )

    # ------------------------------------------------------------ navigator.credentials.get
    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        credential: SoftCredential | None = None,
        rp_id: str | None = None,
    ) -> dict[str, Any]:
        """An assertion for ``options`` (PublicKeyCredentialRequestOptions JSON) by the first
        credential it allows (any of this RP's when ``allowCredentials`` is empty: discoverable),
        or by ``credential``; the ``credential`` to send to ``POST /auth/passkey``. ``origin`` and
        ``rp_id`` play a page elsewhere (a phishing site) whose ceremony the user was lured into."""
        chosen = credential or self._credential_for(options)
        chosen.sign_count += self.counter_step
        rp_id_hash = _sha256((rp_id or chosen.rp_id).encode())
        authenticator_data = bytes(
            AuthenticatorData.create(rp_id_hash, self._flags(), chosen.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.private_key.sign(
            authenticator_data + _sha256(client_data), ec.ECDSA(hashes.SHA256())
        )
        return self._public_key_credential(
            chosen,
            {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(authenticator_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
        )

    def clone(self) -> SoftAuthenticator:
        """A copy with the same keys and counters: what an attacker who extracted them holds."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------ helpers
    def _credential_for(self, options: dict[str, Any]) -> SoftCredential:
        allowed = [from_b64url(c["id"]) for c in options.get("allowCredentials", [])]
        for candidate in self.credentials:
            if candidate.rp_id == options["rpId"] and (
                not allowed or candidate.credential_id in allowed
            ):
                return candidate
        raise CeremonyRefused("NotAllowedError: no credential of this authenticator applies")

    def _flags(self) -> AuthenticatorData.FLAG:
        flags = FLAG.UP
        if self.verifies_user:
            flags |= FLAG.UV
        if self.synced:
            flags |= FLAG.BE | FLAG.BS
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return bytes(
            CollectedClientData.create(kind, from_b64url(challenge), origin or self.origin)
        )

    def _public_key_credential(
        self, credential: SoftCredential, response: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": "platform" if self.synced else "cross-platform",
            "clientExtensionResults": {},
        }


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
