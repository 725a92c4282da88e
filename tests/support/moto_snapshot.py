"""Fresh provisioned stacks for in-process tests, without provisioning each one.

Provisioning Userflow's template in moto takes ~30 calls and six clients (0.3-0.7 s), and most
integration tests start from a fresh stack: the first one of a process is provisioned, and every
later one is a deep copy of the moto state that provisioning left (a few milliseconds).
"""

from __future__ import annotations

import copy
import copyreg
import dataclasses
import threading
from pathlib import Path
from typing import Any

from moto.backends import get_backend
from moto.core.base_backend import BackendDict

from userflow.local_stack import provision_local_stack
from userflow.stack import Stack

# Moto's models hold locks and conditions; a copy gets new, unheld ones.
copyreg.pickle(type(threading.Lock()), lambda _lock: (threading.Lock, ()))
copyreg.pickle(type(threading.RLock()), lambda _lock: (threading.RLock, ()))
copyreg.pickle(threading.Condition, lambda _condition: (threading.Condition, ()))

_State = tuple[list[BackendDict[Any]], list[dict[str, Any]]]
_taken: dict[Path, tuple[_State, Stack]] = {}


def fresh_stack(template: Path) -> Stack:
    """The stack of ``template``, as if just provisioned; call it under a fresh ``mock_aws``."""
    if template not in _taken:
        stack = provision_local_stack(template)
        live = _live_backends()
        _taken[template] = ((live, _copied([dict(backends) for backends in live])), stack)
        return _copy_of(stack)
    (live, accounts), stack = _taken[template]
    assert not _tables(), "fresh_stack needs a fresh mock_aws, not one nested in another"
    instances = BackendDict._instances  # type: ignore[misc]
    for backends, copied in zip(live, _copied(accounts), strict=True):
        backends.clear()  # what mock_aws made on start (SES's defaults) gives way to the copy
        backends.update(copied)
        if backends not in instances:  # moto resets only the services it has listed
            instances.append(backends)
    return _copy_of(stack)


def _copied(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One copy of every service at once: backends refer to each other (SES v2 sends through
    SES's backend, DynamoDB Streams reads DynamoDB's), and so must their copies."""
    copied: list[dict[str, Any]] = copy.deepcopy(accounts)
    return copied


def _tables() -> list[str]:
    return [
        name
        for account in get_backend("dynamodb").values()
        for region in account.values()
        for name in region.tables
    ]


def _live_backends() -> list[BackendDict[Any]]:
    return [backends for backends in BackendDict._instances if backends]  # type: ignore[misc]


def _copy_of(stack: Stack) -> Stack:
    return dataclasses.replace(
        stack, resources=copy.deepcopy(stack.resources), parameters=dict(stack.parameters)
    )
