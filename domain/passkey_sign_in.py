"""Signing in with a passkey, without a password.

- Options: any discoverable credential of this RP (``allowCredentials`` empty), or, given an email,
  that user's passkeys. An email that matches nobody, or a user without a usable passkey, gets
  decoys: credential ids derived from the address under a secret key, stable per address, in the
  same number of table reads. The answer for an unknown address looks like a known one's.
- Assertion: verified as domain/passkey_assertions.py says (one 401 for every refusal), its use
  recorded only if no other assertion moved the counter past it meanwhile.
- A passkey with user verification counts as two factors: ``amr`` is ``["hwk" or "swk",
  "user"]`` (domain/passkeys.py), which satisfies step-up (domain/reauthentication.py).
  Password lockouts do not apply: a passkey cannot be guessed, and an attacker's wrong passwords
  must not lock its owner out of it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from domain import passkey_ceremonies as ceremonies
from domain.auth_models import TokenPair
from domain.clock import Clock, utc_now
from domain.email_address import lookup_forms
from domain.passkey_assertions import PasskeyAssertions, PasskeyRefused
from domain.passkey_ceremonies import RelyingParty
from domain.passkey_service import hand_out
from domain.passkeys import (
    NOBODY,
    CeremonyOptions,
    ChallengePurpose,
)
from domain.ports import (
    ChallengeStore,
    PasskeyRepository,
    RecordOutcome,
    record_nothing,
)
from domain.users import UserAccount
from domain.webauthn_json import AuthenticationCredential

# Metric names, one per outcome an operator watches.
PASSKEY_SIGN_IN_SUCCEEDED = "PasskeySignInSucceeded"
PASSKEY_SIGN_IN_FAILED = "PasskeySignInFailed"

StartSession = Callable[[UserAccount, tuple[str, ...]], TokenPair]
"""A new session of the user whose login used these ``amr`` methods (domain/auth_service.py)."""
Credentials = list[tuple[bytes, Sequence[str]]]
DECOY_TRANSPORTS = ("hybrid", "internal")
# Credential id lengths of common authenticators (security keys, platform and synced passkeys).
DECOY_ID_LENGTHS = (16, 20, 32, 32, 48, 64)


class PasskeySignIn:
    def __init__(
        self,
        *,
        assertions: PasskeyAssertions,
        passkeys: PasskeyRepository,
        challenges: ChallengeStore,
        relying_party: RelyingParty,
        decoy_key: Callable[[], bytes],
        start_session: StartSession,
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        """``decoy_key``: the secret that derives decoy credential ids from an address."""
        self._assertions = assertions
        self._passkeys = passkeys
        self._challenges = challenges
        self._rp = relying_party
        self._decoy_key = decoy_key
        self._start_session = start_session
        self._clock = clock
        self._record = record_metric

    # ------------------------------------------------------------ options
    def options(self, email: str | None) -> CeremonyOptions:
        """Per-source limits: the route's (handlers/source_guard.py)."""
        now = self._clock()
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
            verified = self._assertions.verify(challenge_id, credential)
            if not self._passkeys.record_use(verified.passkey, verified.use):
                raise PasskeyRefused("passkey removed, blocked or used meanwhile", verified.user_id)
        except PasskeyRefused as refused:
            self._record(PASSKEY_SIGN_IN_FAILED, user_id=refused.user_id)
            raise
        self._record(PASSKEY_SIGN_IN_SUCCEEDED, user_id=verified.user_id)
        return self._start_session(verified.account, verified.passkey.amr)
