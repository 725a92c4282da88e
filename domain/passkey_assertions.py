"""Verifying a passkey assertion: for signing in without a password (domain/passkey_sign_in.py)
and as the second step of a password login (domain/passkey_factor.py).

A challenge of the sign-in purpose, taken once; the passkey its credential id names; the user
handle, if sent, must name the same user; py_webauthn checks origin, RP ID, challenge, user
verification and signature. A signature counter that went backwards on a valid signature means a
copy of the key exists: the passkey is blocked, every session of its user ends and the user is
mailed. Every refusal is ``PasskeyRefused``: one 401 for callers, its reason for the log.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from domain import passkey_ceremonies as ceremonies
from domain.clock import Clock, utc_now
from domain.errors import AuthenticationFailed, UserNotFound
from domain.mail import MailKind
from domain.passkey_ceremonies import CeremonyFailed, RelyingParty
from domain.passkey_service import notice
from domain.passkeys import ChallengePurpose, PasskeyUse, StoredPasskey
from domain.ports import (
    ChallengeStore,
    PasskeyRepository,
    RecordOutcome,
    UserRepository,
    record_nothing,
)
from domain.users import UserAccount, UserStatus
from domain.webauthn_json import AuthenticationCredential

PASSKEY_CLONE_DETECTED = "PasskeyCloneDetected"


def counter_regressed(stored: int, presented: int) -> bool:
    """WebAuthn's cloned-authenticator signal: a counter in use that did not grow."""
    return (stored > 0 or presented > 0) and presented <= stored


@dataclass(frozen=True)
class VerifiedAssertion:
    passkey: StoredPasskey
    account: UserAccount
    use: PasskeyUse

    @property
    def user_id(self) -> str:
        return self.account.user.id


class PasskeyRefused(AuthenticationFailed):
    """An assertion refused: every reason gets the same 401 body; ``reason`` and ``user_id`` are
    for the function's log line (docs/operating/runbook.md)."""

    def __init__(self, reason: str, user_id: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.user_id = user_id


class PasskeyAssertions:
    def __init__(
        self,
        *,
        users: UserRepository,
        passkeys: PasskeyRepository,
        challenges: ChallengeStore,
        relying_party: RelyingParty,
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        self._users = users
        self._passkeys = passkeys
        self._challenges = challenges
        self._rp = relying_party
        self._clock = clock
        self._record = record_metric

    def verify(
        self, challenge_id: str, credential: AuthenticationCredential, user_id: str | None = None
    ) -> VerifiedAssertion:
        """The passkey and its active user once the assertion verified (PasskeyRefused
        otherwise); its use is for the caller to record, conditionally (``record_use``), alone or
        with a second factor's challenge. ``user_id``: the only user it may be."""
        now = self._clock()
        challenge = self._challenges.take(challenge_id, ChallengePurpose.SIGN_IN, now)
        if challenge is None:
            raise PasskeyRefused("challenge unknown, used, expired or of another purpose")
        passkey = self._passkeys.find(credential.passkey_id)
        if passkey is None:
            raise PasskeyRefused("unknown credential")
        owner = passkey.user_id
        if any(allowed not in (None, owner) for allowed in (challenge.user_id, user_id)):
            raise PasskeyRefused("credential of another user than the challenge's", owner)
        handle = credential.user_handle
        if handle is not None and not hmac.compare_digest(handle, owner.encode()):
            raise PasskeyRefused("user handle names another user", owner)
        if not passkey.signs_in:
            raise PasskeyRefused("passkey blocked", owner)
        try:
            assertion = ceremonies.verify_authentication(
                self._rp, credential, challenge.challenge, passkey
            )
        except CeremonyFailed as error:
            raise PasskeyRefused(str(error), owner) from error
        if assertion.backup_eligible != passkey.backup_eligible:
            raise PasskeyRefused("backup eligibility changed", owner)
        account = self._account(owner)
        if counter_regressed(passkey.sign_count, assertion.sign_count):
            self._passkeys.block(passkey, account, now, notice(MailKind.PASSKEY_BLOCKED, account))
            self._record(PASSKEY_CLONE_DETECTED, user_id=owner)
            raise PasskeyRefused("signature counter went backwards: a copy of the key", owner)
        if account.user.status != UserStatus.ACTIVE:
            raise PasskeyRefused("user disabled", owner)
        use = PasskeyUse(sign_count=assertion.sign_count, backed_up=assertion.backed_up, at=now)
        return VerifiedAssertion(passkey=passkey, account=account, use=use)

    def _account(self, user_id: str) -> UserAccount:
        try:
            return self._users.get(user_id)
        except UserNotFound as error:
            raise PasskeyRefused("user gone", user_id) from error
