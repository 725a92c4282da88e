"""Per-source limits on the routes anyone may call (docs/api/auth.md, "Per-source limits").

Each unauthenticated route counts its requests per source address in fixed windows, and every
such route counts the source's failures (a wrong password or unknown email, an invalid refresh,
verification or reset token, an email already registered) together: one source spraying guesses
across many accounts, or probing which addresses exist, is stopped after ``failures`` of them,
whichever route it uses. Beyond a limit: 429 with ``Retry-After`` (the window's end).

A source is its IPv4 address, or the /64 network of its IPv6 address: one subscriber usually gets
a whole /64, so counting single IPv6 addresses would let it rotate through 2^64 of them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from domain.clock import Clock, utc_now
from domain.errors import TooManyRequests

IPV6_PREFIX = 64
UNKNOWN_SOURCE = "unknown"


def source_of(address: str) -> str:
    """What a source is counted as: an IPv4 address, an IPv6 /64 (IPv4-mapped IPv6 addresses are
    their IPv4 address), or ``unknown`` for anything unparsable (counted together)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN_SOURCE
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)


def hashed(scope: str, value: str) -> str:
    """Counter keys hold hashes, never addresses: the limiter's items need no personal data."""
    return f"{scope}#{hashlib.sha256(value.encode()).hexdigest()}"


@dataclass(frozen=True)
class SourceLimits:
    requests: int
    """Requests to one route per source and window."""
    failures: int = 20
    """Failures per source and window, all routes together."""
    window: timedelta = timedelta(minutes=15)


class SourceCounters(Protocol):
    def admit(self, source_key: str, route: str, limits: SourceLimits, window_start: int) -> bool:
        """In one round trip: count a request to ``route`` unless the source is at its request
        limit for the route or its failure limit in this window (then False, nothing counted)."""

    def count_failure(self, source_key: str, limits: SourceLimits, window_start: int) -> None: ...


class SourceLimiter:
    def __init__(
        self,
        counters: SourceCounters,
        limits: SourceLimits,
        clock: Clock = utc_now,
    ) -> None:
        self._counters = counters
        self.limits = limits
        self._clock = clock

    def admit(self, address: str, route: str) -> None:
        """TooManyRequests (retry after the window's end) for a source over a limit."""
        start, end = self._window()
        if not self._counters.admit(self._key(address), route, self.limits, start):
            now = self._clock().timestamp()
            raise TooManyRequests(retry_after=max(1, math.ceil(end - now)))

    def count_failure(self, address: str) -> None:
        self._counters.count_failure(self._key(address), self.limits, self._window()[0])

    def _window(self) -> tuple[int, int]:
        seconds = int(self.limits.window.total_seconds())
        start = int(self._clock().timestamp()) // seconds * seconds
        return start, start + seconds

    @staticmethod
    def _key(address: str) -> str:
        return hashed("source", source_of(address))
