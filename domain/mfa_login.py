"""The second step of a login: an ``mfa_token`` from the password step, then a second factor.

- ``mfa_token``: 256 random bits, stored only as its SHA-256 with the user, the user's session
  generation at the password step (a password change, reset or admin reset since kills it), the
  failures so far and its expiry. It is single use, lives 5 minutes and dies at the 5th wrong
  proof. Every failure (unknown, expired, used, wrong code, replay) is the same 401 (429 while
  the login throttle delays, as at login).
- A proof is checked by the factor it is for (``SecondFactor``): TOTP codes and recovery codes
  here, passkeys in domain/passkey_factor.py (a proof type, a factor, a use). A factor answers
  with the *use* it makes of the user's items (the time step to record, the recovery code to
  strike, the passkey's counter), which the challenge store writes in one transaction with the
  consumption of the ``mfa_token``: of two requests with the same proof, or the same
  ``mfa_token``, only one can succeed.
- Each wrong proof also counts toward the login throttle, as a wrong password does (the auth
  service does that: it knows whether the device or the account is the scope).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn, Protocol

from domain.clock import Clock, utc_now
from domain.errors import AuthenticationFailed, UserNotFound
from domain.mail import MailKind, user_message
from domain.mfa_crypto import MfaKeys
from domain.mfa_models import MfaRequired, Proof, RecoveryCodeProof, TotpProof
from domain.mfa_policy import MfaPolicy
from domain.mfa_uses import (
    FactorUse,
    MfaChallenge,
    PasskeyUsed,
    RecoveryCodeUsed,
    TotpStepUsed,
)
from domain.ports import MfaChallengeStore, RecordOutcome, UserRepository, record_nothing
from domain.users import UserAccount

MFA_TOKEN_LIFETIME = timedelta(minutes=5)
MAX_WRONG_PROOFS = 5
# Metric names (domain/auth_service.py's style).
MFA_FAILED = "MfaFailed"
MFA_SUCCEEDED = "MfaSucceeded"
RECOVERY_CODE_USED = "RecoveryCodeUsed"


def hash_mfa_token(token: str) -> str:
    """256 random bits: a fast hash suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- factors


class SecondFactor(Protocol):
    @property
    def method(self) -> str | None:
        """Named in ``methods`` (None: a fallback not offered on its own)."""

    @property
    def amr(self) -> str:
        """RFC 8176 value the access token gets."""

    @property
    def proof_type(self) -> type:
        """The proof (domain/mfa_models.py) this factor checks."""

    @property
    def turns_mfa_on(self) -> bool:
        """Having it makes password logins ask for a second factor (TOTP). A passkey does not
        by itself: it is offered where a factor is asked for, or where MfaPolicy covers the user
        (then it is the factor the user enrolled)."""

    def enrolled(self, account: UserAccount) -> bool: ...

    def verify(self, account: UserAccount, proof: Proof, now: datetime) -> FactorUse | None:
        """The use to record when ``proof`` is right, None when it is wrong."""


class TotpFactor:
    method = "totp"
    amr = "otp"
    proof_type = TotpProof
    turns_mfa_on = True

    def __init__(self, keys: MfaKeys) -> None:
        self._keys = keys

    def enrolled(self, account: UserAccount) -> bool:
        return account.mfa.totp_enabled

    def verify(self, account: UserAccount, proof: Proof, now: datetime) -> FactorUse | None:
        from domain.mfa_codes import matched_step  # the TOTP library: only this step needs it

        sealed = account.mfa.totp_secret
        if not isinstance(proof, TotpProof) or sealed is None:
            return None
        step = matched_step(self._keys.open(sealed, account.user.id), proof.code, now)
        if step is None or step <= account.mfa.totp_last_step:
            return None
        return TotpStepUsed(account.user.id, step, sealed)


class RecoveryCodeFactor:
    """A lookup secret (NIST SP 800-63B 5.1.2): one-time, so ``otp`` in RFC 8176's terms."""

    method = None
    amr = "otp"
    proof_type = RecoveryCodeProof
    turns_mfa_on = True

    def __init__(self, keys: MfaKeys) -> None:
        self._keys = keys

    def enrolled(self, account: UserAccount) -> bool:
        return account.mfa.totp_enabled and bool(account.mfa.recovery_codes)

    def verify(self, account: UserAccount, proof: Proof, now: datetime) -> FactorUse | None:
        from domain.mfa_codes import normalize_recovery_code

        if not isinstance(proof, RecoveryCodeProof):
            return None
        code = normalize_recovery_code(proof.code)
        if code is None:
            return None
        code_hash = self._keys.code_hash(code)
        if code_hash not in account.mfa.recovery_codes:
            return None
        notice = user_message(MailKind.RECOVERY_CODE_USED, account.user)
        remaining = len(account.mfa.recovery_codes) - 1
        return RecoveryCodeUsed(account.user.id, code_hash, notice, account.user.version, remaining)


# ---------------------------------------------------------------- the challenge
@dataclass(frozen=True)
class OpenChallenge:
    """A live ``mfa_token`` and the account it was issued for, as read now."""

    challenge: MfaChallenge
    account: UserAccount


class MfaLogin:
    """The second step's challenge and factors. The login throttle around it (a throttled scope
    is not tried; a wrong proof counts as a failed login) is the auth service's, which knows the
    scope (domain/auth_service.py)."""

    def __init__(
        self,
        *,
        users: UserRepository,
        challenges: MfaChallengeStore,
        factors: Sequence[SecondFactor],
        policy: Callable[[], MfaPolicy] = lambda: MfaPolicy.OPTIONAL,
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        """``policy``: read when a login asks (only the login function is configured for it)."""
        self._users = users
        self._challenges = challenges
        self._factors = factors
        self._policy = policy
        self._clock = clock
        self._record = record_metric

    def required(self, account: UserAccount) -> bool:
        covered = self._policy().covers(str(role) for role in account.user.roles)
        return any(
            factor.enrolled(account) and (factor.turns_mfa_on or covered)
            for factor in self._factors
        )

    def begin(self, account: UserAccount) -> MfaRequired:
        token = secrets.token_urlsafe(32)
        self._challenges.create(
            MfaChallenge(
                token_hash=hash_mfa_token(token),
                user_id=account.user.id,
                session_generation=account.session_generation,
                expires_at=self._clock() + MFA_TOKEN_LIFETIME,
            )
        )
        methods = [f.method for f in self._factors if f.method and f.enrolled(account)]
        return MfaRequired(
            mfa_token=token, methods=methods, expires_in=int(MFA_TOKEN_LIFETIME.total_seconds())
        )

    def open(self, mfa_token: str) -> OpenChallenge:
        """The live challenge; AuthenticationFailed when unknown, used, expired, exhausted, or
        when the user's sessions were revoked (or the user disabled or deleted) since."""
        challenge = self._challenges.find(hash_mfa_token(mfa_token))
        if challenge is None or challenge.expires_at <= self._clock():
            self._fail(None)
        try:
            account = self._users.get(challenge.user_id)
        except UserNotFound:
            self._fail(None)
        if not account.accepts_session(challenge.session_generation):
            self._fail(challenge.user_id)
        return OpenChallenge(challenge, account)

    def verify(self, opened: OpenChallenge, proof: Proof) -> str | None:
        """The factor's ``amr`` once ``proof`` is right and its use and the challenge's end are
        written (one transaction); None for a wrong proof, or a right one another request used
        first (a replay): that counts against the challenge."""
        account, challenge = opened.account, opened.challenge
        factor = next(
            (f for f in self._factors if f.enrolled(account) and isinstance(proof, f.proof_type)),
            None,
        )
        use = factor.verify(account, proof, self._clock()) if factor else None
        if factor is None or use is None or not self._challenges.complete(challenge, use):
            self._challenges.record_failure(challenge, MAX_WRONG_PROOFS)
            self._record(MFA_FAILED, user_id=account.user.id)
            return None
        self._record(MFA_SUCCEEDED, user_id=account.user.id)
        if isinstance(use, RecoveryCodeUsed):
            self._record(RECOVERY_CODE_USED, user_id=account.user.id)
        return use.amr if isinstance(use, PasskeyUsed) else factor.amr

    def _fail(self, user_id: str | None) -> NoReturn:
        self._record(MFA_FAILED, user_id=user_id)
        raise AuthenticationFailed
