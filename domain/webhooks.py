"""Webhook endpoints for consumers outside AWS (docs/events/webhooks.md): what an endpoint is, which
URLs may be one, and when a failed delivery is tried again.

Pure rules; the network checks (every address a host resolves to must be public, at
registration and again at each delivery) are the adapter's (adapters/webhook_delivery.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain.errors import InvalidInput
from domain.event_types import DetailType

MAX_URL_LENGTH = 2048
SVIX_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
"""Seconds before each retry after a failed attempt (Svix's: 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h); then the delivery is dead-lettered. Template parameter WebhookRetrySchedule."""
TEST_EVENT_TYPE = "WebhookTest"


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # failing for longer than the policy allows; an operator re-enables


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    event_types: frozenset[str]
    """The detail-types delivered; empty: all of them."""
    secret_id: str
    """Where the signing secret is (the Secrets Manager secret holding it under the endpoint's
    id); never the secret."""
    created_at: datetime
    status: EndpointStatus = EndpointStatus.ACTIVE
    failing_since: datetime | None = None

    def wants(self, detail_type: str) -> bool:
        return (
            self.status is EndpointStatus.ACTIVE
            and (not self.event_types or detail_type in self.event_types)
        ) or detail_type == TEST_EVENT_TYPE


@dataclass(frozen=True)
class UrlPolicy:
    """``local``: the local stack (http and loopback receivers allowed); deployed stacks take
    https only and public addresses only."""

    local: bool = False

    def check_url(self, url: str) -> tuple[str, int]:
        """The host and port of an acceptable endpoint URL; InvalidInput naming what is wrong."""
        if (
            not url
            or len(url) > MAX_URL_LENGTH
            or not url.isascii()
            or not url.isprintable()
            or " " in url
        ):
            raise InvalidInput(
                f"the URL must be printable ASCII without spaces, at most {MAX_URL_LENGTH}"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise InvalidInput(f"not a URL: {error}") from error
        schemes = ("https", "http") if self.local else ("https",)
        if parts.scheme not in schemes:
            raise InvalidInput(f"the URL must be {' or '.join(schemes)}")
        if parts.username is not None or parts.password is not None:
            raise InvalidInput("the URL must not carry credentials")
        if not parts.hostname:
            raise InvalidInput("the URL has no host")
        if parts.fragment:
            raise InvalidInput("the URL must not have a fragment")
        return parts.hostname, port or (443 if parts.scheme == "https" else 80)

    def check_address(self, address: str) -> None:
        """InvalidInput unless deliveries may go to ``address`` (SSRF: never the stack's own
        network, the metadata service, or anything else not on the public internet)."""
        ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.local and ip.is_loopback:
            return
        if not ip.is_global or ip.is_multicast:
            raise InvalidInput(f"the URL's host resolves to a private address ({ip})")


def event_types(requested: list[str] | None) -> frozenset[str]:
    """The detail-types an endpoint asked for; InvalidInput for one that does not exist."""
    known = {str(t) for t in DetailType}
    unknown = sorted(set(requested or ()) - known)
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}")
    return frozenset(requested or ())


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[int, ...] = SVIX_SCHEDULE
    disable_after: timedelta = timedelta(days=5)

    def delay_after(self, attempt: int) -> int | None:
        """Seconds before the next attempt once ``attempt`` (1 = the first) failed; None: no
        attempt is left, dead-letter the delivery."""
        return self.schedule[attempt - 1] if attempt <= len(self.schedule) else None

    def disables(self, endpoint: Endpoint, now: datetime) -> bool:
        """An endpoint failing without a success for ``disable_after`` is disabled."""
        since = endpoint.failing_since
        return since is not None and now - since >= self.disable_after


def parse_schedule(text: str) -> tuple[int, ...]:
    """``"5,300,1800"`` -> (5, 300, 1800): whole seconds, each at least 1."""
    try:
        delays = tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise ValueError(f"not a comma-separated list of seconds: {text!r}") from error
    if not delays or min(delays) < 1:
        raise ValueError("every delay is at least 1 second")
    return delays
