"""Passkeys (WebAuthn): what is kept of each, what its owner sees, and what the API accepts.

A passkey is a key pair made by the user's authenticator; the service keeps only its public key
(COSE), its signature counter and what the authenticator said about it (docs/api/passkeys.md).
Nothing here is secret, but key material and credential ids stay out of the public user and of
lifecycle events: the public user shows only how many passkeys there are (``passkey_count``).

The ceremonies themselves (options, verification) are py_webauthn's, in
``domain/passkey_ceremonies.py``; this module imports nothing of it, so that functions listing or
renaming passkeys (and login, which only asks whether a user has one) never load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from domain.auth_models import LoginEmail
from domain.text import document_pattern, refuse_control_characters, visible_text_pattern
from domain.users import CurrentPassword
from domain.webauthn_json import (
    AuthenticationCredential,
    ChallengeId,
    RegistrationCredential,
)

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_PASSKEYS = 10
"""Per user. Deleting a user removes its passkeys in the same transaction as the user (two items
each, with the user and its email claim: 22 of DynamoDB's limit of 100, and of moto's 25)."""
DEFAULT_NAME = "Passkey"

# RFC 8176 ``amr`` values. A synced passkey (backup eligible: iCloud Keychain, Google Password
# Manager...) can leave the device that made it, so its key is software-secured ("swk"); a
# device-bound one (a security key, a TPM) never leaves its hardware ("hwk"). Either came with
# user verification (a PIN or a biometric), hence "user"; both count as two factors.
HARDWARE_KEY = "hwk"
SOFTWARE_KEY = "swk"
USER_VERIFIED = "user"


def is_passkey_id(text: str) -> bool:
    """Whether ``text`` could be a passkey id (a URL path segment may be anything)."""
    return len(text) == PASSKEY_ID_LENGTH and all(c in _BASE64URL for c in text)


PASSKEY_ID_LENGTH = 43
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class ChallengePurpose(StrEnum):
    REGISTER = "register"
    SIGN_IN = "sign_in"


@dataclass(frozen=True)
class Challenge:
    """A WebAuthn challenge handed out with options: used at most once, within its lifetime.

    ``user_id``: whose registration it is for; for a sign-in scoped by an email, the only user
    whose passkeys it accepts (``NOBODY`` when the email matched no user with passkeys)."""

    challenge_id: str
    challenge: bytes
    purpose: ChallengePurpose
    expires_at: datetime
    user_id: str | None = None


NOBODY = "-"
"""A sign-in challenge's ``user_id`` when its email matched nobody: no assertion satisfies it."""


class StoredPasskey(BaseModel):
    """One passkey as the table keeps it (adapters/passkey_items.py)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    user_id: str
    credential_id: bytes
    public_key: bytes = Field(repr=False)
    """The credential's COSE public key, as the authenticator attested it."""
    sign_count: int = 0
    transports: tuple[str, ...] = ()
    aaguid: str
    """The authenticator model (all zeros when it does not say: no attestation is asked for)."""
    backup_eligible: bool = False
    backed_up: bool = False
    name: str = DEFAULT_NAME
    created_at: datetime
    last_used_at: datetime | None = None
    blocked_at: datetime | None = None
    """When its signature counter went backwards: a copy of the key exists, so it signs in no
    more (docs/api/passkeys.md)."""

    @property
    def amr(self) -> tuple[str, str]:
        return (SOFTWARE_KEY if self.backup_eligible else HARDWARE_KEY, USER_VERIFIED)

    @property
    def signs_in(self) -> bool:
        return self.blocked_at is None

    def view(self) -> Passkey:
        return Passkey(
            id=self.id,
            name=self.name,
            created_at=self.created_at,
            last_used_at=self.last_used_at,
            backed_up=self.backed_up,
            transports=list(self.transports),
            blocked_at=self.blocked_at,
        )


@dataclass(frozen=True)
class PasskeyUse:
    """What a verified assertion changes of its passkey: recorded only if the counter stored is
    still below ``sign_count`` (or both are 0), and the passkey not blocked or removed meanwhile."""

    sign_count: int
    backed_up: bool
    at: datetime


# ---------------------------------------------------------------- what callers see
class Passkey(BaseModel):
    """A passkey as its owner sees it: never its key, its credential id or its counter."""

    model_config = ConfigDict(defer_build=True)

    id: str = Field(description="Stable id of the passkey (not its credential id)")
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    backed_up: bool = Field(description="The authenticator syncs it (a synced passkey)")
    transports: list[str] = Field(description="How the authenticator can be reached")
    blocked_at: datetime | None = Field(
        default=None,
        description="Set when a copy of this passkey was detected (its signature counter went "
        "backwards): it signs in no more; remove it and register the device again",
    )


class PasskeyList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[Passkey]


class CeremonyOptions(BaseModel):
    """What the browser passes to ``navigator.credentials.create()`` or ``.get()``, with the id
    to send back with its answer."""

    model_config = ConfigDict(defer_build=True)

    challenge_id: str = Field(description="Send it back with the credential; single use, 5 min")
    options: dict[str, Any] = Field(
        description="PublicKeyCredentialCreationOptions or PublicKeyCredentialRequestOptions, in "
        "their JSON form (binary values base64url): what PublicKeyCredential.parse*OptionsFromJSON "
        "takes"
    )


# ---------------------------------------------------------------- what the API accepts
PasskeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(json_schema_extra=document_pattern(visible_text_pattern)),
    AfterValidator(refuse_control_characters),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class RegistrationOptionsRequest(_Strict):
    """The optional body of asking for registration options."""

    current_password: CurrentPassword | None = Field(
        default=None,
        description="Required unless the session began with a sign-in within the "
        'reauthentication window (else 403 "Reauthentication required")',
    )


class RegisterPasskeyRequest(_Strict):
    challenge_id: ChallengeId
    credential: RegistrationCredential
    name: PasskeyName | None = Field(
        default=None, description=f'How the user calls it; default "{DEFAULT_NAME}"'
    )


class RenamePasskeyRequest(_Strict):
    name: PasskeyName


class SignInOptionsRequest(_Strict):
    email: LoginEmail | None = Field(
        default=None,
        description="Only this account's passkeys (allowCredentials); without it, any "
        "discoverable passkey. An address that matches nobody gets an answer of the same shape",
    )


class PasskeyAuthenticationRequest(_Strict):
    challenge_id: ChallengeId
    credential: AuthenticationCredential
