"""WebAuthn's JSON forms (``PublicKeyCredential.toJSON()``): what the browser answers a ceremony
with, as the API takes it. Binary members are base64url; each is bounded well above what
authenticators send, so oversized or malformed input stops here (a 422 naming it).

Kept apart from ``domain/passkeys.py`` and built on first use: ``POST /auth/mfa``'s request
(domain/mfa_models.py) names the assertion, and the login function imports that module.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def passkey_id(credential_id: bytes) -> str:
    """A passkey's id in URLs and keys: the SHA-256 of its credential id, base64url (43
    characters), since a credential id may be up to 1023 bytes."""
    return b64url(hashlib.sha256(credential_id).digest())


def decoded(text: str) -> bytes:
    """Bytes of ``Base64Url`` text, padded or not."""
    unpadded = text.rstrip("=")
    return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))


Base64Url = Annotated[
    str,
    # Exactly the lengths a byte string can have (a 4n+1 one cannot), padded or not.
    StringConstraints(
        pattern=r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$"
    ),
]
"""Binary values as WebAuthn's JSON forms carry them. Each field bounds its length well above
what authenticators send, so oversized input stops here (a 422)."""
UserHandle = Annotated[
    Base64Url,
    # On the string itself: a bound on ``UserHandle | None`` would be applied to null too.
    StringConstraints(max_length=88),
    Field(description="The user handle, at most 64 bytes (base64url)"),
]
ChallengeId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$"),
    Field(description="The challenge_id that came with the options"),
]
Transport = Annotated[str, StringConstraints(pattern=r"^[a-z-]{1,32}$")]


class _BrowserJson(BaseModel):
    """``PublicKeyCredential.toJSON()`` output. Browsers add members over time (L3 added
    ``publicKey``, ``authenticatorData`` at registration...): unknown ones are ignored, not
    refused, and never stored."""

    # Built on first use, not at import: the login function imports POST /auth/mfa's models,
    # which name these, and never validates a credential (~6 ms a model at cold start).
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class AttestationResponse(_BrowserJson):
    client_data_json: Base64Url = Field(alias="clientDataJSON", max_length=8192)
    attestation_object: Base64Url = Field(alias="attestationObject", max_length=32768)
    transports: list[Transport] = Field(default_factory=list, max_length=8)


class AssertionResponse(_BrowserJson):
    client_data_json: Base64Url = Field(alias="clientDataJSON", max_length=8192)
    authenticator_data: Base64Url = Field(alias="authenticatorData", max_length=8192)
    signature: Base64Url = Field(max_length=1024)
    user_handle: UserHandle | None = Field(default=None, alias="userHandle")


class _Credential(_BrowserJson):
    id: Base64Url = Field(max_length=1368, description="The credential id (at most 1023 bytes)")
    raw_id: Base64Url = Field(alias="rawId", max_length=1368)
    type: Literal["public-key"]
    authenticator_attachment: Literal["platform", "cross-platform"] | None = Field(
        default=None, alias="authenticatorAttachment"
    )

    def as_json(self) -> dict[str, Any]:
        """The credential as py_webauthn parses it (only the members it knows)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class RegistrationCredential(_Credential):
    """What ``navigator.credentials.create()`` answered, as JSON."""

    response: AttestationResponse


class AuthenticationCredential(_Credential):
    """What ``navigator.credentials.get()`` answered, as JSON."""

    response: AssertionResponse

    @property
    def passkey_id(self) -> str:
        return passkey_id(decoded(self.raw_id))

    @property
    def user_handle(self) -> bytes | None:
        handle = self.response.user_handle
        return None if handle is None else decoded(handle)
