"""The share of operations the emulator fails on purpose, changeable while it runs.

The start-up rates (e.g. ``putevents=0.3``) are written to a control file, which the running
stack follows whenever it changes: another process rewrites it (``putevents=0``) so that a
recovery drill can end with the faults turned off and the dead-letter queues emptied.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger("samlocal")

FAULT_TARGETS = {"putevents": "AWSEvents.PutEvents"}
"""Operation key (service prefix optional, case and dashes ignored) → X-Amz-Target it fails."""


def parse_fail_rates(text: str | None) -> dict[str, float]:
    """``"putevents=0.3,events-putevents=0.1"`` → ``{"putevents": 0.1}``; raises ValueError."""
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, separator, value = item.partition("=")
        if not separator:
            raise ValueError(f"expected service-op=rate, got {item!r}")
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        operation = next((op for op in FAULT_TARGETS if key in (op, f"events{op}")), None)
        if operation is None:
            raise ValueError(f"cannot inject failures into {name!r}; supported: putevents")
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"rate for {name!r} must be a number, not {value!r}") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {name!r} must be between 0 and 1")
        rates[operation] = rate
    return rates


def format_fail_rates(rates: dict[str, float]) -> str:
    """The text :func:`parse_fail_rates` reads back (``none`` when nothing fails)."""
    return ",".join(f"{op}={rate:g}" for op, rate in sorted(rates.items()) if rate) or "none"


class FailRates:
    """The current rates: the start-up ones, then whatever the control file says when it changes
    (an unreadable file is logged and the previous rates are kept)."""

    def __init__(self, initial: dict[str, float], path: Path | None = None) -> None:
        self._rates = dict(initial)
        self.path = path
        self._seen: tuple[int, int] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(format_fail_rates(self._rates) + "\n")

    def current(self) -> dict[str, float]:
        if self.path is None:
            return self._rates
        try:
            status = self.path.stat()
        except OSError:
            return self._rates
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp != self._seen:
            self._seen = stamp
            text = self.path.read_text().strip()
            try:
                self._rates = parse_fail_rates("" if text == "none" else text)
            except ValueError as error:
                log.warning("ignoring %s: %s", self.path, error)
            else:
                log.info("fail rates now: %s", format_fail_rates(self._rates))
        return self._rates

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
