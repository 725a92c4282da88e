"""Cyclic garbage collection waits until a Lambda environment has started.

Starting imports several hundred modules and builds the AWS clients, models and validators:
hundreds of thousands of objects that live as long as the environment, which the collector would
walk again and again while they are made (~8% of a cold request, benchmarks/cold_start.py). In
Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set), the collector is paused from the first import of
``handlers`` until the first invocation has returned; what exists then is frozen, never walked
again, and collection resumes for what later requests make. Reference counting frees everything
else as usual meanwhile.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])
_paused: list[bool] = []


def pause_collection() -> None:
    """Called once, when ``handlers`` is first imported."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled() and not _paused:
        gc.disable()
        _paused.append(True)


def resume_collection() -> None:
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()


def started(handler: Handler) -> Handler:
    """``handler``, resuming collection once its first invocation returns (or raises)."""

    @wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            resume_collection()

    return entry  # type: ignore[return-value]
