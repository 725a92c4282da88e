"""Signing in with a passkey, without a password (and checking one as a second factor).

- Options: any discoverable credential of this RP (``allowCredentials`` empty), or, given an email,
  that user's passkeys. An email that matches nobody, or a user without a usable passkey, gets
  decoys: credential ids derived from the address under a secret key, stable per address, in the
  same number of table reads. The answer for an unknown address looks like a known one's.
- Assertion: a challenge of this purpose, taken once; the passkey its credential id names; the
  user handle, if sent, must name the same user; py_webauthn checks origin, RP ID, challenge,
  user verification and signature. A signature counter that went backwards on a valid signature
  means a copy of the key exists: the passkey is blocked, every session of the user ends and the
  user is mailed. Every failure is the same 401 (``AuthenticationFailed``).
- A passkey with user verification counts as two factors: ``amr`` is ``["hwk" or "swk",
  "user"]`` (domain/passkeys.py), which satisfies step-up (domain/reauthentication.py).
  Password lockouts do not apply: a passkey cannot be guessed, and an attacker's wrong passwords
  must not lock its owner out of it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import passkey_ceremonies as ceremonies
from domain.auth_models import TokenPair
from domain.email_address import lookup_forms
from domain.errors import AuthenticationFailed, TooManyRequests, UserNotFound
from domain.mail import MailKind
from domain.passkey_ceremonies import CeremonyFailed, RelyingParty
from domain.passkey_service import hand_out, notice
from domain.passkeys import (
    NOBODY,
    AuthenticationCredential,
    CeremonyOptions,
    ChallengePurpose,
    PasskeyUse,
    StoredPasskey,
)
from domain.ports import (
    ChallengeStore,
    PasskeyRepository,
    RateLimiter,
    RecordOutcome,
    UserRepository,
    record_nothing,
)
from domain.user_service import utc_now
from domain.users import UserAccount, UserStatus

# Metric names, one per outcome an operator watches.
PASSKEY_SIGN_IN_SUCCEEDED = "PasskeySignInSucceeded"
PASSKEY_SIGN_IN_FAILED = "PasskeySignInFailed"
PASSKEY_CLONE_DETECTED = "PasskeyCloneDetected"
PASSKEY_OPTIONS_LIMITED = "PasskeyOptionsLimited"

StartSession = Callable[[UserAccount, tuple[str, ...]], TokenPair]
"""A new session of the user whose login used these ``amr`` methods (domain/auth_service.py)."""
Credentials = list[tuple[bytes, Sequence[str]]]
DECOY_TRANSPORTS = ("hybrid", "internal")
# Credential id lengths of common authenticators (security keys, platform and synced passkeys).
DECOY_ID_LENGTHS = (16, 20, 32, 32, 48, 64)


@dataclass(frozen=True)
class SignInLimits:
    """Options are the one unauthenticated write here (a challenge item): limited per source."""

    options_per_source: int = 30
    window: timedelta = timedelta(minutes=1)


def counter_regressed(stored: int, presented: int) -> bool:
    """WebAuthn's cloned-authenticator signal: a counter in use that did not grow."""
    return (stored > 0 or presented > 0) and presented <= stored


def source_key(address: str) -> str:
    """A limiter key for a client address: IPv6 by its /64 (one subscriber's), hashed (keys never
    hold addresses)."""
    try:
        parsed = ipaddress.ip_address(address)
        network = str(parsed)
        if parsed.version == 6:
            network = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    except ValueError:
        network = address
    return hashlib.sha256(network.encode()).hexdigest()[:32]


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
    for the function's log line (README, "Operator runbook")."""

    def __init__(self, reason: str, user_id: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.user_id = user_id


class PasskeySignIn:
    def __init__(
        self,
        *,
        users: UserRepository,
        passkeys: PasskeyRepository,
        challenges: ChallengeStore,
        relying_party: RelyingParty,
        decoy_key: Callable[[], bytes],
        limiter: RateLimiter,
        start_session: StartSession,
        limits: SignInLimits | None = None,
        clock: Callable[[], datetime] = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        """``decoy_key``: the secret that derives decoy credential ids from an address."""
        self._users = users
        self._passkeys = passkeys
        self._challenges = challenges
        self._rp = relying_party
        self._decoy_key = decoy_key
        self._limiter = limiter
        self._start_session = start_session
        self._limits = limits or SignInLimits()
        self._clock = clock
        self._record = record_metric

    # ------------------------------------------------------------ options
    def options(self, email: str | None, source: str) -> CeremonyOptions:
        now = self._clock()
        limits = self._limits
        if not self._limiter.allow(
            f"passkey-options#{source_key(source)}", limits.options_per_source, limits.window, now
        ):
            self._record(PASSKEY_OPTIONS_LIMITED)
            raise TooManyRequests
        allowed: Credentials = []
        user_id = None
        if email is not None:
            allowed, user_id = self._credentials_for(email)
        options = ceremonies.authentication_options(self._rp, allowed)
        return hand_out(self._challenges, options, ChallengePurpose.SIGN_IN, now, user_id)

    def _credentials_for(self, email: str) -> tuple[Credentials, str]:
        """The same reads whoever the address belongs to: every stored form's claim, then one
        query (of a partition nobody has, for an unknown address)."""
        forms = lookup_forms(email)
        owners = [self._passkeys.user_id_by_email(form) for form in forms]
        owner = next(filter(None, owners), None)
        mac = hmac.new(self._decoy_key(), f"passkey-decoy|{forms[0]}".encode(), "sha256")
        partition = owner or f"decoy-{mac.hexdigest()}"
        usable = [p for p in self._passkeys.list_for_user(partition) if p.signs_in]
        if owner is not None and usable:
            return [(p.credential_id, p.transports) for p in usable], owner
        return self._decoys(mac.digest()), NOBODY

    def _decoys(self, seed: bytes) -> Credentials:
        key = self._decoy_key()
        count = 1 + seed[0] % 2
        decoys: Credentials = []
        for index in range(count):
            material = hmac.new(key, seed + bytes([index]), "sha512").digest()
            length = DECOY_ID_LENGTHS[material[0] % len(DECOY_ID_LENGTHS)]
            decoys.append((material[1 : 1 + length], DECOY_TRANSPORTS))
        return decoys

    # ------------------------------------------------------------ assertion
    def sign_in(self, challenge_id: str, credential: AuthenticationCredential) -> TokenPair:
        try:
            verified = self.verify(challenge_id, credential)
            if not self._passkeys.record_use(verified.passkey, verified.use):
                raise PasskeyRefused("passkey removed, blocked or used meanwhile", verified.user_id)
        except PasskeyRefused as refused:
            self._record(PASSKEY_SIGN_IN_FAILED, user_id=refused.user_id)
            raise
        self._record(PASSKEY_SIGN_IN_SUCCEEDED, user_id=verified.user_id)
        return self._start_session(verified.account, verified.passkey.amr)

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
