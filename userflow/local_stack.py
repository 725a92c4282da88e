"""Start-up steps of `userflow local` that run once the stack is provisioned.

A deployment gets its first token signing key from ``userflow keys ensure`` (``make deploy`` runs
it); the local stack gets it here, so that ``userflow local`` stays one command.
"""

from __future__ import annotations

from userflow.commands.keys import ensure_keys
from userflow.stack import Stack


def bootstrap(stack: Stack) -> None:
    """Creates the signing key set (and publishes its JWKS) unless the stack already has one."""
    ensure_keys(stack)
