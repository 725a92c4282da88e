"""The one clock every service reads: a port, so that tests set the time instead of waiting.

A clock is any callable that answers the current instant (aware, UTC): ``utc_now`` in
production, a settable fake or a ``lambda: moment`` in tests. Elapsed-time measurements (the
forgot-password time pad, cache ages) use ``time.monotonic`` instead: they need a clock that
never jumps, not the time of day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
