"""Opaque, tamper-evident pagination cursors for ``GET /users``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from typing import Any

from domain.errors import InvalidCursor

CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
"""What a cursor this service issued looks like (base64url body, a dot, base64url MAC)."""


class CursorCodec:
    """Opaque, tamper-evident pagination cursors: base64(JSON key) + HMAC-SHA256.

    The key is fetched on first use, so functions that never paginate never read the secret.
    """

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._key(), payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, last_key: dict[str, Any]) -> str:
        payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac(payload)}"

    def decode(self, cursor: str) -> dict[str, Any]:
        # ASCII only: anything else (non-ASCII text included) is not ours, and must not reach
        # the MAC comparison, which refuses non-ASCII strings with a TypeError.
        if re.fullmatch(CURSOR_PATTERN, cursor, flags=re.ASCII) is None:
            raise InvalidCursor
        try:
            body, mac = cursor.split(".")
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as error:
            raise InvalidCursor from error
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor
        decoded: dict[str, Any] = json.loads(payload)
        return decoded
