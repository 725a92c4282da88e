"""One signed POST to a webhook endpoint (Standard Webhooks), safe against SSRF.

The host is resolved at each delivery and every address it resolves to must pass the URL
policy (domain/webhooks.py): a name that pointed somewhere public at registration and now points
inside the network (DNS rebinding) is refused. The connection then goes to the address that was
checked, not to a second resolution; TLS still verifies the certificate for the host's name.
Redirects are never followed (a 3xx is a failed delivery), and the answer is not read beyond its
status.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from domain.errors import InvalidInput
from domain.webhooks import UrlPolicy

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Userflow-Webhooks/1"


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None
    error: str | None = None


def resolved_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def checked_address(policy: UrlPolicy, url: str) -> tuple[str, int, str]:
    """(host, port, the address to connect to); InvalidInput when the URL, or any address its
    host resolves to, is not allowed, or the host does not resolve."""
    host, port = policy.check_url(url)
    try:
        addresses = resolved_addresses(host, port)
    except (OSError, UnicodeError) as error:
        raise InvalidInput(f"the URL's host does not resolve ({error})") from error
    if not addresses:
        raise InvalidInput("the URL's host does not resolve")
    for address in addresses:
        policy.check_address(address)
    return host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port or 80), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port or 443), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def signed_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def deliver(
    policy: UrlPolicy,
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float = TIMEOUT_SECONDS,
) -> Attempt:
    """A 2xx answer is a delivery; anything else (a refused address included) is a failure
    named in ``error``."""
    try:
        host, port, address = checked_address(policy, url)
    except InvalidInput as error:
        return Attempt(ok=False, status=None, error=f"refused: {error}")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: Any = (
        _PinnedHTTPSConnection(host, port, address, timeout)
        if parts.scheme == "https"
        else _PinnedHTTPConnection(host, port, address, timeout)
    )
    try:
        connection.request("POST", target, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return Attempt(ok=False, status=None, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Attempt(ok=True, status=status)
    return Attempt(ok=False, status=status, error=f"HTTP {status}")
