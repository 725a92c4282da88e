"""Multi-factor authentication, self-service and admin: enrol TOTP, confirm it, turn it off, new
recovery codes, and the administrators' reset (the lost-phone path).

Rules (docs/api/mfa.md):
- Enrolling needs recent authentication; turning MFA off and new recovery codes need a step-up
  (a recent login *with* the second factor), so a stolen password or a stolen access token from
  a password-only login can neither turn it off nor read new codes.
- The secret is shown once, at enrolment; confirming with a first code turns TOTP on and shows
  the recovery codes once. The table keeps the secret sealed and the codes as keyed hashes.
- Every change of ``mfa_enabled`` is a versioned user change: the stream publishes it as
  ``UserUpdated`` (``changed_fields: ["mfa_enabled"]``), with nothing secret in it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from domain.access import Caller, caller_account
from domain.clock import Clock, utc_now
from domain.email_lookup import account_by_email
from domain.errors import InvalidInput, InvalidMfaCode, MfaStateConflict
from domain.mail import MailKind, user_message
from domain.mfa_codes import (
    matched_step,
    new_recovery_codes,
    new_totp_secret,
    normalize_recovery_code,
    otpauth_uri,
)
from domain.mfa_crypto import MfaKeys
from domain.mfa_models import MfaStatus, RecoveryCodes, TotpEnrolment
from domain.mfa_policy import MfaPolicy
from domain.mfa_state import MfaSecrets
from domain.ports import UserRepository
from domain.users import User, UserAccount
from domain.write_races import redone_on_lost_race

PENDING_ENROLMENT_LIFETIME = timedelta(minutes=15)
# State is checked before step-up: saying "already on" or "off" reveals nothing that
# GET /users/me/mfa does not, and spares the user a reauthentication that could not succeed.
ALREADY_ON = "TOTP is already on; turn it off before enrolling again"
MFA_OFF = "Turn TOTP on first: recovery codes stand in for it"


StepUp = Callable[[Caller, UserAccount, str | None], None]
"""``(caller, account, current_password)``: raises ReauthenticationRequired unless the caller
authenticated recently enough for a dangerous operation (domain/reauthentication.py)."""


# ---------------------------------------------------------------- the use cases
class MfaService:
    def __init__(
        self,
        *,
        users: UserRepository,
        keys: MfaKeys,
        issuer: str,
        step_up: StepUp,
        policy: MfaPolicy = MfaPolicy.OPTIONAL,
        clock: Clock = utc_now,
    ) -> None:
        self._users = users
        self._keys = keys
        self._issuer = issuer
        self._step_up = step_up
        self._policy = policy
        self._clock = clock

    def status(self, caller: Caller) -> MfaStatus:
        account = caller_account(self._users, caller)
        return MfaStatus(
            totp=account.user.mfa_enabled, recovery_codes_left=len(account.mfa.recovery_codes)
        )

    def start_totp(self, caller: Caller, current_password: str | None) -> TotpEnrolment:
        """A new pending secret (any earlier pending one dies); nothing is on yet."""
        account = caller_account(self._users, caller)
        if account.user.mfa_enabled:
            raise MfaStateConflict(ALREADY_ON)
        self._step_up(caller, account, current_password)
        secret = new_totp_secret()

        def once() -> TotpEnrolment:
            account = caller_account(self._users, caller)
            if account.user.mfa_enabled:
                raise MfaStateConflict(ALREADY_ON)
            pending = account.mfa.model_copy(
                update={
                    "totp_pending": self._keys.seal(secret, account.user.id),
                    "totp_pending_expires_at": self._clock() + PENDING_ENROLMENT_LIFETIME,
                }
            )
            self._users.save(account.model_copy(update={"mfa": pending}), account)
            return TotpEnrolment(
                secret=secret, otpauth_uri=otpauth_uri(secret, account.user.email, self._issuer)
            )

        return redone_on_lost_race(once)

    def confirm_totp(self, caller: Caller, code: str) -> RecoveryCodes:
        """The first code proves the app holds the secret: TOTP goes on with new recovery codes.
        The code's time step is recorded, so it cannot log in afterwards."""
        codes = new_recovery_codes()

        def once() -> RecoveryCodes:
            account = caller_account(self._users, caller)
            now = self._clock()
            pending = account.mfa.pending_secret(now)
            if account.user.mfa_enabled or pending is None:
                raise MfaStateConflict("No TOTP enrolment is pending (or it expired); start again")
            step = matched_step(self._keys.open(pending, account.user.id), code, now)
            if step is None:
                raise InvalidMfaCode
            enabled = MfaSecrets(
                totp_secret=pending, totp_last_step=step, recovery_codes=self._hashes(codes)
            )
            self._users.save(self._with_mfa(account, enabled, now, on=True), account)
            return RecoveryCodes(recovery_codes=codes)

        return redone_on_lost_race(once)

    def disable_totp(self, caller: Caller, current_password: str | None) -> None:
        """TOTP off and the recovery codes gone; the user is mailed. Refused where the policy
        requires MFA of this user (an administrator's reset is the way out)."""
        account = caller_account(self._users, caller)
        if not account.user.mfa_enabled and account.mfa == MfaSecrets():
            return
        self._step_up(caller, account, current_password)

        def once() -> None:
            account = caller_account(self._users, caller)
            if not account.user.mfa_enabled and account.mfa == MfaSecrets():
                return
            if self._policy.covers(account.user.roles) and account.user.mfa_enabled:
                raise MfaStateConflict("The MFA policy requires a second factor for this account")
            notice = (
                user_message(MailKind.MFA_DISABLED, account.user)
                if account.user.mfa_enabled
                else None
            )
            updated = self._with_mfa(account, MfaSecrets(), self._clock(), on=False)
            self._users.save(updated, account, [notice] if notice else [])

        redone_on_lost_race(once)

    def new_recovery_codes(self, caller: Caller, current_password: str | None) -> RecoveryCodes:
        """A new set; the old one dies with this write."""
        account = caller_account(self._users, caller)
        if not account.user.mfa_enabled:
            raise MfaStateConflict(MFA_OFF)
        self._step_up(caller, account, current_password)
        codes = new_recovery_codes()

        def once() -> RecoveryCodes:
            account = caller_account(self._users, caller)
            if not account.user.mfa_enabled:
                raise MfaStateConflict(MFA_OFF)
            mfa = account.mfa.model_copy(update={"recovery_codes": self._hashes(codes)})
            self._users.save(account.model_copy(update={"mfa": mfa}), account)
            return RecoveryCodes(recovery_codes=codes)

        return redone_on_lost_race(once)

    def reset_by_admin(self, caller: Caller, user_id: str) -> None:
        """``DELETE /users/{id}/mfa``: an administrator helps a user who lost the phone."""
        caller.ensure_admin()
        caller_account(self._users, caller)
        target = caller.resolve(user_id)
        redone_on_lost_race(lambda: self._reset(self._users.get(target)))

    def reset_by_operator(self, email: str) -> tuple[User, bool]:
        """``userflow admin reset-mfa EMAIL``: the same, from the operator's CLI; whether there
        was anything to reset."""

        def once() -> tuple[User, bool]:
            account = account_by_email(self._users, email)
            if account is None:
                raise InvalidInput(f"No user with email {email}")
            return self._reset(account)

        return redone_on_lost_race(once)

    def _reset(self, account: UserAccount) -> tuple[User, bool]:
        """MFA off, every session ended, the user mailed; nothing to do if nothing is set up."""
        if not account.user.mfa_enabled and account.mfa == MfaSecrets():
            return account.user, False
        now = self._clock()
        updated = self._with_mfa(account, MfaSecrets(), now, on=False).with_sessions_revoked(now)
        self._users.save(updated, account, [user_message(MailKind.MFA_RESET, account.user)])
        return updated.user, True

    def _hashes(self, codes: list[str]) -> frozenset[str]:
        return frozenset(
            self._keys.code_hash(normalized)
            for code in codes
            if (normalized := normalize_recovery_code(code)) is not None
        )

    @staticmethod
    def _with_mfa(account: UserAccount, mfa: MfaSecrets, now: datetime, *, on: bool) -> UserAccount:
        """``mfa_enabled`` is public: a change of it is a new version (and a UserUpdated)."""
        if account.user.mfa_enabled != on:
            account = account.changed(now, mfa_enabled=on)
        return account.model_copy(update={"mfa": mfa})
