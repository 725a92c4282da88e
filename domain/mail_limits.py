"""One limiter for every message the API mails (docs/api/recovery.md, "No mail bombing"):
registration, email change, resending a verification and forgot-password. Per recipient address and
per source, in fixed one-hour windows: beyond either, the change that asked for the message still
happens, but no further message goes to that address that hour (resend answers 429: it asks for
nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.clock import Clock, utc_now
from domain.email_address import lookup_forms
from domain.ports import RateLimiter, RecordOutcome, record_nothing
from domain.source_limits import hashed, source_of

HOUR = timedelta(hours=1)
MAIL_RATE_LIMITED = "MailRateLimited"
"""The metric of a message not sent because of a limit (an address or a source mail-bombed)."""


@dataclass(frozen=True)
class MailLimits:
    per_recipient: int = 3
    per_source: int = 30
    window: timedelta = HOUR


class MailLimiter:
    def __init__(
        self,
        limiter: RateLimiter,
        limits: MailLimits | None = None,
        clock: Clock = utc_now,
        record_metric: RecordOutcome = record_nothing,
    ) -> None:
        self._limiter = limiter
        self.limits = limits or MailLimits()
        self._clock = clock
        self._record = record_metric

    def allow(self, recipient: str, source: str | None) -> bool:
        """Counts one message to ``recipient`` asked from ``source`` (None: no source, e.g. an
        operator's tool); both are counted whatever the other says, so that reaching one limit
        reveals nothing about the other."""
        now, limits = self._clock(), self.limits
        address = lookup_forms(recipient)[0]  # its canonical form, however it was typed
        to = self._limiter.allow(
            hashed("mail#to", address.lower()), limits.per_recipient, limits.window, now
        )
        by = source is None or self._limiter.allow(
            hashed("mail#source", source_of(source)), limits.per_source, limits.window, now
        )
        if not (to and by):
            self._record(MAIL_RATE_LIMITED)
        return to and by

    def retry_after(self) -> int:
        """Seconds until the current window ends (the limits start over)."""
        seconds = int(self.limits.window.total_seconds())
        return seconds - int(self._clock().timestamp()) % seconds
