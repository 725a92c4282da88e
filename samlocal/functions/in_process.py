"""Invokes template functions inside this process, for tests whose moto runs in-process too.

The runtime runs each function in its own worker processes (:mod:`samlocal.functions.pool`);
moto's in-process ``mock_aws`` cannot be reached from another process, so tests call handlers
here instead. ``os.environ`` is process-wide: each call applies its function's
environment under one lock and restores it afterwards.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from samlocal.functions.config import (
    FunctionError,
    LambdaContext,
    LocalFunction,
    load_function,
    new_context,
    runtime_environment,
)
from samlocal.provision import ProvisionedStack
from samlocal.template import Template


class Invoker:
    """Runs template functions by logical id in this process, one at a time."""

    def __init__(
        self,
        template: Template,
        stack: ProvisionedStack,
        local_values: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.stack = stack
        # Local stand-ins for variables that functions have, e.g. the parameters extension's port.
        self.local_values = local_values or {}
        self._lock = threading.RLock()
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._functions: dict[str, LocalFunction] = {}
        # Local runs the source next to the template, not the CodeUri that a build stages.
        source = str(template.base_dir)
        if source not in sys.path:
            sys.path.insert(0, source)

    def function(self, logical_id: str) -> LocalFunction:
        if logical_id not in self._functions:
            self._functions[logical_id] = load_function(self.template, self.stack, logical_id)
        return self._functions[logical_id]

    def runtime_environment(self, function: LocalFunction) -> dict[str, str]:
        """The environment Lambda would give the function here, local stand-ins included."""
        return runtime_environment(function, self.stack, self.local_values)

    @contextmanager
    def _environment(self, values: dict[str, str]) -> Iterator[None]:
        """Applies variables, then puts back exactly what was there (never emptying the
        environment, which threads outside the lock may be reading)."""
        saved = dict(os.environ)
        os.environ.update(values)
        try:
            yield
        finally:
            for name in set(os.environ) - set(saved):
                del os.environ[name]
            for name, value in saved.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value

    def _handler(self, function: LocalFunction) -> Callable[[Any, Any], Any]:
        if function.handler not in self._handlers:
            module_name, _, attribute = function.handler.rpartition(".")
            module = importlib.import_module(module_name)
            self._handlers[function.handler] = getattr(module, attribute)
        return self._handlers[function.handler]

    def context(self, function: LocalFunction) -> LambdaContext:
        return new_context(function)

    def invoke(self, logical_id: str, event: Any) -> Any:
        """The function's result; raises :class:`FunctionError` when the function raised."""
        function = self.function(logical_id)
        environment = self.runtime_environment(function)
        with self._lock, self._environment(environment):
            try:
                handler = self._handler(function)
                context = self.context(function)
                result = handler(event, context)
            except Exception as error:
                raise FunctionError(f"{type(error).__name__} in {logical_id}") from error
            if context.get_remaining_time_in_millis() == 0:
                raise FunctionError(f"Task timed out after {function.timeout_s} seconds")
            return result
