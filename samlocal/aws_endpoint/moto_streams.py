"""Tells the local stream pollers when moto appends a stream record, so they sleep in between.

Lambda's pollers read a stream about four times a second per shard; locally each read is two
calls through boto3 and moto's server, and two mappings polling every 0.2 s kept an idle stack at a
tenth of a core, whatever it was doing. moto appends every record of every table's stream through
``StreamShard.add``: wrapped, it counts them, and a poller waits until the count moves (or a long
idle interval passes) instead of reading an unchanged stream.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.table import StreamShard

_ORIGINAL_ADD = StreamShard.add


class StreamActivity:
    """How many stream records moto has appended; pollers wait for the number to change."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def notify(self) -> None:
        """Something happened that a sleeping poller should look at (a record; a stop)."""
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Returns once the count differs from ``seen`` (at once if it already does), or after
        ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._count != seen, timeout)


def _notifying(original: Callable[..., Any], activity: StreamActivity) -> Callable[..., Any]:
    @functools.wraps(original)
    def add(self: StreamShard, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        activity.notify()

    return add


def install(activity: StreamActivity) -> None:
    """Makes every record moto appends to a stream, in this process, notify ``activity``."""
    StreamShard.add = _notifying(_ORIGINAL_ADD, activity)  # type: ignore[method-assign]


def uninstall() -> None:
    """Puts moto's own method back."""
    StreamShard.add = _ORIGINAL_ADD  # type: ignore[method-assign]
