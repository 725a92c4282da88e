"""Lambda SnapStart: what environments restored from one snapshot must not share.

With the template's ``SnapStart=true``, Lambda runs INIT once per published version and restores
every new environment from that snapshot (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``). After a
restore: Python's ``random`` is reseeded (``secrets``/``uuid4`` read the kernel's generator and
need nothing), and AWS clients made during INIT are dropped, with their pooled connections and
the credentials they cached; they are made again on first use. Without SnapStart nothing is
imported or registered.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable

SNAPSTART = "snap-start"
_after_restore: list[Callable[[], None]] = []


def on_restore(callback: Callable[[], None]) -> None:
    """Runs ``callback`` after each restore (a function's own state made during INIT; the
    objects ``handlers/stores.py`` and ``handlers/dependencies.py`` made register themselves so)."""
    _after_restore.append(callback)


def restore() -> None:
    """The runtime's after-restore hook."""
    random.seed()
    from adapters.aws_clients import forget_clients

    forget_clients()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if parameters is not None:  # Powertools' parameter providers hold clients and values
        parameters.DEFAULT_PROVIDERS.clear()
    for callback in _after_restore:
        callback()


def register_hooks() -> None:
    """Registers :func:`restore` with the runtime when this environment runs on SnapStart."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAPSTART:
        return
    from snapshot_restore_py import register_after_restore  # the runtime's module

    register_after_restore(restore)
