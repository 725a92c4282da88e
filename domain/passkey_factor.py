"""A passkey as the second step of a password login (``POST /auth/mfa`` with ``challenge_id`` and
``credential``; ``methods`` names it "webauthn").

The challenge comes from ``POST /auth/passkey/options`` (with the user's email, its
``allowCredentials`` lists their passkeys); the assertion is verified as a passkey sign-in's
(domain/passkey_assertions.py) for the ``mfa_token``'s user only, and its counter is recorded in
the transaction that consumes the ``mfa_token``. The token's ``amr`` is ``["pwd", "hwk"]`` or
``["pwd", "swk"]``.

Having a passkey does not make password logins ask for a second factor: users who want the
password gone go passwordless (``DELETE /users/me/password``). Where a factor is asked for (TOTP
on, or MfaPolicy covering the user), a passkey answers it. The login function builds this factor
but never verifies with it: nothing of py_webauthn, nor the passkeys' models, loads there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from domain.mfa_models import PasskeyProof, Proof
from domain.mfa_uses import FactorUse, PasskeyUsed
from domain.users import UserAccount

if TYPE_CHECKING:
    from domain.passkey_assertions import PasskeyAssertions


class PasskeyFactor:
    method = "webauthn"
    amr = "hwk"
    """The usual kind; each use names its passkey's own (a synced one is "swk")."""
    proof_type = PasskeyProof
    turns_mfa_on = False

    def __init__(self, assertions: Callable[[], PasskeyAssertions]) -> None:
        """``assertions``: made on the first passkey proof (the function's relying party)."""
        self._assertions = assertions

    def enrolled(self, account: UserAccount) -> bool:
        return account.user.passkey_count > 0

    def verify(self, account: UserAccount, proof: Proof, now: datetime) -> FactorUse | None:
        from domain.passkey_assertions import PasskeyRefused

        if not isinstance(proof, PasskeyProof):
            return None
        try:
            verified = self._assertions().verify(
                proof.challenge_id, proof.credential, user_id=account.user.id
            )
        except PasskeyRefused:
            return None  # a wrong proof, as a wrong code is (a cloned key is blocked already)
        return PasskeyUsed(verified.passkey, verified.use, verified.passkey.amr[0])
