"""What the MFA routes accept and answer, and the proofs a second step may carry. Pure models:
the login function imports them without the TOTP library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from domain.auth_models import DeviceTokenText, LoginTokens
from domain.text import require_valid_unicode_secret
from domain.users import CurrentPassword
from domain.webauthn_json import AuthenticationCredential, ChallengeId

TotpCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="The 6-digit code the authenticator app shows now", examples=["123456"]),
]


# ---------------------------------------------------------------- proofs
@dataclass(frozen=True)
class TotpProof:
    code: str


@dataclass(frozen=True)
class RecoveryCodeProof:
    code: str


@dataclass(frozen=True)
class PasskeyProof:
    """A passkey answering a challenge of POST /auth/passkey/options (domain/passkey_factor.py)."""

    challenge_id: str
    credential: AuthenticationCredential


Proof = TotpProof | RecoveryCodeProof | PasskeyProof


# ---------------------------------------------------------------- self-service
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReauthenticatedRequest(_Strict):
    """The optional body of a dangerous operation: the current password, for a user whose
    token is not recent enough (no substitute for the second factor of a user who has one)."""

    current_password: CurrentPassword | None = None


class ConfirmTotpRequest(_Strict):
    code: TotpCode


class MfaStatus(BaseModel):
    totp: bool = Field(description="TOTP is on: logins ask for a code")
    recovery_codes_left: int = Field(ge=0, description="Unused recovery codes")


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32 TOTP secret (160 bits), shown this once")
    otpauth_uri: str = Field(description="otpauth://totp/... for an authenticator app (QR code)")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="Single-use codes for when the authenticator is lost, shown this once"
    )


# ---------------------------------------------------------------- login
MfaTokenText = Annotated[
    SecretStr, Field(min_length=1, max_length=256), AfterValidator(require_valid_unicode_secret)
]
RecoveryCodeText = Annotated[
    SecretStr,
    Field(min_length=1, max_length=64, description="One of the recovery codes (xxxxx-xxxxx)"),
    AfterValidator(require_valid_unicode_secret),
]


class MfaVerifyRequest(BaseModel):
    """``mfa_token`` and exactly one proof: a code, a recovery code, or a passkey's assertion
    (``challenge_id`` and ``credential``, as for POST /auth/passkey)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["code"]},
                {"required": ["recovery_code"]},
                {"required": ["challenge_id", "credential"]},
            ],
            "dependentRequired": {"challenge_id": ["credential"], "credential": ["challenge_id"]},
        },
        # Built on first use: the login function imports this module and never validates one.
        defer_build=True,
    )

    mfa_token: MfaTokenText
    code: TotpCode | SkipJsonSchema[None] = None
    recovery_code: RecoveryCodeText | SkipJsonSchema[None] = None
    challenge_id: ChallengeId | SkipJsonSchema[None] = None
    credential: AuthenticationCredential | SkipJsonSchema[None] = None
    device_token: DeviceTokenText | None = Field(
        default=None,
        description="As in POST /auth/login: the device's token, so that its own failures, not "
        "others', decide whether it is throttled",
    )

    @model_validator(mode="after")
    def _one_proof(self) -> MfaVerifyRequest:
        passkey = (self.challenge_id, self.credential)
        if None in passkey and passkey != (None, None):
            raise ValueError("send challenge_id and credential together")
        sent = [self.code, self.recovery_code, self.credential]
        if sum(proof is not None for proof in sent) != 1:
            raise ValueError("send exactly one of code, recovery_code and a passkey's credential")
        return self

    def proof(self) -> Proof:
        if self.code is not None:
            return TotpProof(self.code)
        if self.recovery_code is not None:
            return RecoveryCodeProof(self.recovery_code.get_secret_value())
        assert self.challenge_id is not None  # with the credential: the validator saw to it
        assert self.credential is not None
        return PasskeyProof(self.challenge_id, self.credential)


class MfaRequired(BaseModel):
    """The password was right; a second factor is needed (``POST /auth/mfa``)."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Single use, for POST /auth/mfa")
    methods: list[str] = Field(
        description='Second factors the user has, e.g. ["totp", "webauthn"] ("webauthn": a '
        "passkey, answering POST /auth/passkey/options' challenge)"
    )
    expires_in: int = Field(description="Seconds the mfa_token lives")


class LoginAnswer(RootModel[LoginTokens | MfaRequired]):
    """What ``POST /auth/login`` answers: the token pair, or the second step to take."""
