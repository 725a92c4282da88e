"""The changes `userflow keys` makes to a stack's key set, each stored as soon as it is made:
stage a key, activate the staged one, or replace every key at once (an emergency). The command
(``userflow.commands.keys``) says what each change means for signers and verifiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.signing_keys import SigningKeySet, StoredKey
    from userflow.signing_keys import KeyLocations


@dataclass(frozen=True)
class KeyChange:
    """A key set before and after a change, and when the change was stored (signers' and
    verifiers' caches count from then)."""

    previous: SigningKeySet
    current: SigningKeySet
    stored_at: datetime

    @property
    def staged(self) -> tuple[StoredKey, datetime]:
        """The key staged after the change, and when it may sign."""
        staged = self.current.staged
        if staged is None or staged.signs_from is None:
            raise RuntimeError("a key set just staged has no staged key")
        return staged, staged.signs_from


def stage_key(keys: KeyLocations) -> KeyChange:
    """A new key published now, to sign once every verifier's cached JWKS holds it (it replaces
    a staged key that never signed)."""
    previous = keys.read()
    now = datetime.now(UTC)
    staged = previous.with_staged(now, now + keys.ahead)
    keys.store(staged)
    return KeyChange(previous, staged, now)


def replace_every_key(keys: KeyLocations) -> KeyChange:
    """A new key that signs now, every other leaving the JWKS, and the next one staged."""
    previous = keys.read()
    now = datetime.now(UTC)
    replaced = previous.rotated(now, timedelta(0)).with_staged(now, now + keys.ahead)
    keys.store(replaced)
    return KeyChange(previous, replaced, datetime.now(UTC))


def activate_staged_key(keys: KeyLocations, retain: timedelta) -> KeyChange:
    """The staged key signs from now, the one it replaces stays published for ``retain``, and
    the next key is staged; raises ``NothingStaged`` or ``KeyNotReady`` (domain/signing_keys.py)."""
    previous = keys.read()
    now = datetime.now(UTC)
    successor = previous.activated(now, retain).with_staged(now, now + keys.ahead)
    keys.store(successor)
    return KeyChange(previous, successor, datetime.now(UTC))
