"""Per-source limits (domain/source_limits.py): requests per route and failures across routes,
per IPv4 address or IPv6 /64, in fixed windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import TooManyRequests
from domain.source_limits import SourceLimiter, SourceLimits, source_of
from tests.support.fakes import InMemoryRateLimiter
from tests.support.in_memory_backend import Clock

NOW = datetime(2026, 11, 25, 9, 10, tzinfo=UTC)  # 10 minutes into a 15-minute window


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def limiter(clock: Clock) -> SourceLimiter:
    return SourceLimiter(InMemoryRateLimiter(), SourceLimits(requests=3, failures=2), clock)


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::1", "::/64"),
        ("", "unknown"),
        ("not an address", "unknown"),
        ("203.0.113.7%eth0", "unknown"),
        ("\u0661.\u0662.\u0663.\u0664", "unknown"),
    ],
)
def test_given_an_address_then_its_source(address: str, source: str) -> None:
    assert source_of(address) == source


def test_given_requests_over_a_routes_limit_then_429_until_the_window_ends(
    limiter: SourceLimiter, clock: Clock
) -> None:
    for _ in range(3):
        limiter.admit("203.0.113.7", "login")

    with pytest.raises(TooManyRequests) as refused:
        limiter.admit("203.0.113.7", "login")
    limiter.admit("203.0.113.7", "refresh")  # another route's count is its own
    limiter.admit("203.0.113.8", "login")  # another source's too

    assert refused.value.retry_after == 5 * 60
    clock.advance(timedelta(minutes=5))
    limiter.admit("203.0.113.7", "login")


def test_given_failures_then_every_route_of_that_source_is_refused(
    limiter: SourceLimiter,
) -> None:
    limiter.admit("203.0.113.7", "login")
    limiter.count_failure("203.0.113.7")
    limiter.count_failure("203.0.113.7")

    for route in ("login", "register", "refresh"):
        with pytest.raises(TooManyRequests):
            limiter.admit("203.0.113.7", route)


def test_given_ipv6_addresses_in_one_64_then_they_share_the_limits(
    limiter: SourceLimiter,
) -> None:
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        limiter.admit(address, "login")

    with pytest.raises(TooManyRequests):
        limiter.admit("2001:db8:1:2::99", "login")
    limiter.admit("2001:db8:1:3::1", "login")
