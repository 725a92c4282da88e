"""Start-up steps of `userflow local` that run once the stack is provisioned.

A deployment creates its token signing keys with ``userflow keys rotate``; the local stack gets
its first key here, so that ``userflow local`` stays one command.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.key_store import ensure_signing_key
from userflow.commands.keys import key_locations
from userflow.stack import Stack


def bootstrap(stack: Stack) -> None:
    """Creates the signing key set (and publishes its JWKS) unless the stack already has one."""
    secrets, ssm, secret_id, parameter = key_locations(stack)
    ensure_signing_key(
        secrets, ssm, secret_id=secret_id, parameter=parameter, now=datetime.now(UTC)
    )
