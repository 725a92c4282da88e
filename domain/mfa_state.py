"""What the user item keeps of its second factors: sealed secrets and hashes only.

Kept apart from ``domain/mfa.py`` so that every function reading a user (the model of
``domain/users.py``) loads this small model, not the TOTP library.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class MfaSecrets(BaseModel):
    """Never public: ``User.mfa_enabled`` is the only trace of MFA that leaves the service.

    - ``totp_secret``: the confirmed TOTP secret, sealed (AES-GCM, ``domain/mfa_crypto.py``)
      with the user id as associated data, so a sealed secret copied to another user opens
      for no one.
    - ``totp_last_step``: the newest time step a code was accepted for; a code of that step or
      an older one is refused (replays), by a condition on the write that accepts it.
    - ``totp_pending`` / ``totp_pending_expires_at``: an enrolment waiting for its first code.
    - ``recovery_codes``: keyed hashes (HMAC-SHA-256) of the unused recovery codes.
    """

    model_config = ConfigDict(frozen=True)

    totp_secret: str | None = None
    totp_last_step: int = 0
    totp_pending: str | None = None
    totp_pending_expires_at: datetime | None = None
    recovery_codes: frozenset[str] = Field(default_factory=frozenset)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    def pending_secret(self, now: datetime) -> str | None:
        expires = self.totp_pending_expires_at
        if self.totp_pending is None or expires is None or expires <= now:
            return None
        return self.totp_pending
