"""MAC keys (the list cursor's, recovery tokens', sealed MFA secrets') from Secrets Manager.

Read through the Parameters and Secrets extension where the function has it (no Secrets Manager
client to create on a cold start), else through the SDK, cached as long as the extension caches.
Keys change only when an operator replaces them: kept in the container for a minute, which spares
warm requests a localhost round trip each (~1 ms of CPU) on top of the extension's own cache
(300 s), so a new key reaches every function within six minutes."""

from __future__ import annotations

import time

MAC_KEY_CACHE_SECONDS = 60.0
_mac_keys: dict[str, tuple[float, bytes]] = {}


def forget_mac_keys() -> None:
    """For a new stack in the same process (tests)."""
    _mac_keys.clear()


def mac_key(secret_id: str) -> bytes:
    """The secret ``secret_id`` as bytes."""
    cached = _mac_keys.get(secret_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    from adapters.parameters_extension import read_secret, through_extension

    value = through_extension(read_secret, secret_id)
    if value is None:
        from aws_lambda_powertools.utilities.parameters import get_secret

        value = str(get_secret(secret_id, max_age=300))
    _mac_keys[secret_id] = (time.monotonic() + MAC_KEY_CACHE_SECONDS, value.encode())
    return value.encode()
