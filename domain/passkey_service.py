"""A user's own passkeys: register, list, rename, remove; and going passwordless.

Registering one starts with options that need recent authentication (as every change to how the
account signs in does) and ends with a single-use challenge; removing one, or the password, needs
step-up (recent authentication with a second factor for users with MFA) and is refused when it
would leave the user no way to sign in. Adding or removing a passkey changes the public user
(``passkey_count``, a new version), so subscribers hear of it; the user is mailed either way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn, Protocol

from domain import passkey_ceremonies as ceremonies
from domain.access import Caller, caller_account
from domain.clock import Clock, utc_now
from domain.errors import (
    LastSignInMethod,
    PasskeyLimitReached,
    PasskeyNotFound,
    PasskeyNotRegistered,
)
from domain.mail import MailKind, MailRequest, new_message_id
from domain.passkey_ceremonies import CeremonyFailed, RelyingParty
from domain.passkeys import (
    CHALLENGE_LIFETIME,
    DEFAULT_NAME,
    MAX_PASSKEYS,
    CeremonyOptions,
    Challenge,
    ChallengePurpose,
    Passkey,
    RegisterPasskeyRequest,
    StoredPasskey,
    is_passkey_id,
)
from domain.ports import (
    ChallengeStore,
    PasskeyRepository,
    RecordOutcome,
    UserRepository,
    record_nothing,
)
from domain.users import UserAccount
from domain.webauthn_json import passkey_id
from domain.write_races import redone_on_lost_race

# Metric names, one per outcome an operator watches.
PASSKEY_ADDED = "PasskeyAdded"
PASSKEY_REMOVED = "PasskeyRemoved"
PASSKEY_REGISTRATION_FAILED = "PasskeyRegistrationFailed"
PASSWORD_REMOVED = "PasswordRemoved"  # noqa: S105 - a metric name


class Reauthentication(Protocol):
    """The rule for dangerous operations (domain/reauthentication.py)."""

    def require(
        self, caller: Caller, account: UserAccount, current_password: str | None
    ) -> None: ...


def hand_out(
    challenges: ChallengeStore,
    options: ceremonies.Options,
    purpose: ChallengePurpose,
    now: datetime,
    user_id: str | None,
) -> CeremonyOptions:
    """Keeps the options' challenge (single use, for ``CHALLENGE_LIFETIME``) under a new id and
    answers what the browser needs, with that id."""
    challenge = Challenge(
        challenge_id=secrets.token_urlsafe(32),
        challenge=options.challenge,
        purpose=purpose,
        expires_at=now + CHALLENGE_LIFETIME,
        user_id=user_id,
    )
    challenges.put(challenge)
    return CeremonyOptions(challenge_id=challenge.challenge_id, options=options.json)


def notice(kind: MailKind, account: UserAccount) -> MailRequest:
    user = account.user
    return MailRequest(
        message_id=new_message_id(), kind=kind, to=user.email, user_id=user.id, name=user.name
    )


def ways_to_sign_in(account: UserAccount, passkeys: list[StoredPasskey]) -> int:
    """The password (if the user has one) and every passkey that still signs in."""
    return int(account.has_password) + sum(1 for passkey in passkeys if passkey.signs_in)


class PasskeyService:
    def __init__(
        self,
        *,
        users: UserRepository,
        passkeys: PasskeyRepository,
        challenges: ChallengeStore,
        relying_party: RelyingParty,
        reauthentication: Callable[[], Reauthentication],
        unusable_password_hash: Callable[[], str],
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        """``unusable_password_hash``: what replaces the hash of a user going passwordless
        (``PasswordHasher.unusable_hash``)."""
        self._users = users
        self._passkeys = passkeys
        self._challenges = challenges
        self._rp = relying_party
        self._reauthentication = reauthentication
        self._unusable_password_hash = unusable_password_hash
        self._clock = clock
        self._record = record_metric

    # ------------------------------------------------------------ register
    def registration_options(self, caller: Caller, current_password: str | None) -> CeremonyOptions:
        account = caller_account(self._users, caller)
        self._reauthentication().require(caller, account, current_password)
        existing = self._passkeys.list_for_user(account.user.id)
        if len(existing) >= MAX_PASSKEYS:
            raise PasskeyLimitReached
        options = ceremonies.registration_options(self._rp, account.user, existing)
        return hand_out(
            self._challenges, options, ChallengePurpose.REGISTER, self._clock(), account.user.id
        )

    def register(self, caller: Caller, request: RegisterPasskeyRequest) -> Passkey:
        """The challenge is spent first: a second attempt with it fails whatever it carries."""
        account = caller_account(self._users, caller)
        now = self._clock()
        challenge = self._challenges.take(request.challenge_id, ChallengePurpose.REGISTER, now)
        if challenge is None or challenge.user_id != account.user.id:
            self._refuse(account)
        try:
            new = ceremonies.verify_registration(self._rp, request.credential, challenge.challenge)
        except CeremonyFailed:
            self._refuse(account)
        passkey = StoredPasskey(
            id=passkey_id(new.credential_id),
            user_id=account.user.id,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=tuple(dict.fromkeys(request.credential.response.transports)),
            aaguid=new.aaguid,
            backup_eligible=new.backup_eligible,
            backed_up=new.backed_up,
            name=request.name or DEFAULT_NAME,
            created_at=now,
        )
        redone_on_lost_race(lambda: self._add(caller, passkey, now))
        self._record(PASSKEY_ADDED, user_id=account.user.id)
        return passkey.view()

    def _add(self, caller: Caller, passkey: StoredPasskey, now: datetime) -> None:
        account = caller_account(self._users, caller)
        count = account.user.passkey_count
        if count >= MAX_PASSKEYS:
            raise PasskeyLimitReached
        updated = account.changed(now, passkey_count=count + 1)
        notice_ = notice(MailKind.PASSKEY_ADDED, account)
        if not self._passkeys.add(passkey, updated, account, notice_):
            self._refuse(account)  # the authenticator holds one of our passkeys already

    def _refuse(self, account: UserAccount) -> NoReturn:
        self._record(PASSKEY_REGISTRATION_FAILED, user_id=account.user.id)
        raise PasskeyNotRegistered

    # ------------------------------------------------------------ list, rename
    def list_passkeys(self, caller: Caller) -> list[Passkey]:
        account = caller_account(self._users, caller)
        return [passkey.view() for passkey in self._passkeys.list_for_user(account.user.id)]

    def rename(self, caller: Caller, passkey_id: str, name: str) -> Passkey:
        account = caller_account(self._users, caller)
        passkey = self._own(account, passkey_id)
        if not self._passkeys.rename(passkey, name):
            raise PasskeyNotFound
        return passkey.model_copy(update={"name": name}).view()

    def _own(self, account: UserAccount, passkey_id: str) -> StoredPasskey:
        found = self._passkeys.find(passkey_id) if is_passkey_id(passkey_id) else None
        if found is None or found.user_id != account.user.id:
            raise PasskeyNotFound
        return found

    # ------------------------------------------------------------ remove
    def remove(self, caller: Caller, passkey_id: str) -> None:
        """Concurrent removals cannot both take the last ways to sign in: each writes the user
        at its next version, so the second one is redone on a fresh read, and refused."""
        proven: list[bool] = []
        redone_on_lost_race(lambda: self._remove_once(caller, passkey_id, proven))
        self._record(PASSKEY_REMOVED, user_id=caller.user_id)

    def _remove_once(self, caller: Caller, passkey_id: str, proven: list[bool]) -> None:
        account = self._step_up(caller, proven)
        passkeys = self._passkeys.list_for_user(account.user.id)
        target = next((passkey for passkey in passkeys if passkey.id == passkey_id), None)
        if target is None:
            raise PasskeyNotFound
        remaining = [passkey for passkey in passkeys if passkey.id != passkey_id]
        if ways_to_sign_in(account, remaining) == 0:
            raise LastSignInMethod
        updated = account.changed(self._clock(), passkey_count=len(remaining))
        self._passkeys.remove(target, updated, account, notice(MailKind.PASSKEY_REMOVED, account))

    def remove_password(self, caller: Caller) -> None:
        """Passwordless from now on: no password login works (each still costs a full check, so
        it cannot be told from a wrong password); "Forgot password" sets one again."""
        proven: list[bool] = []
        redone_on_lost_race(lambda: self._remove_password_once(caller, proven))

    def _remove_password_once(self, caller: Caller, proven: list[bool]) -> None:
        account = self._step_up(caller, proven)
        if not account.has_password:
            return
        passkeys = self._passkeys.list_for_user(account.user.id)
        if not any(passkey.signs_in for passkey in passkeys):
            raise LastSignInMethod
        updated = account.changed(self._clock()).model_copy(
            update={"password_hash": self._unusable_password_hash()}
        )
        self._users.save(updated, account, [notice(MailKind.PASSWORD_REMOVED, account)])
        self._record(PASSWORD_REMOVED, user_id=account.user.id)

    def _step_up(self, caller: Caller, proven: list[bool]) -> UserAccount:
        """The caller's account, once the rule for dangerous operations let them through (asked
        once, however often a lost race makes the change start again)."""
        account = caller_account(self._users, caller)
        if not proven:
            self._reauthentication().require(caller, account, None)
            proven.append(True)
        return account
