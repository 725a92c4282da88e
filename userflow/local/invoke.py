"""Invokes a template function in-process, as Lambda would: its environment, a context, its handler.

``os.environ`` is process-wide, so each function's import and call run under one lock with that
function's environment applied and restored afterwards. Handlers are imported on first call only
(``userflow local`` must start fast).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from userflow.local.provision import function_environment
from userflow.local.template import Template
from userflow.stack import Stack

log = logging.getLogger("userflow-local")

LOCAL_SESSION_TOKEN = "testing"  # noqa: S105 - a fake credential for moto
"""The functions' ``AWS_SESSION_TOKEN`` (and so the parameters extension's token) locally."""
PASSED_THROUGH = ("USERFLOW_SCRYPT_LOG2_N", "USERFLOW_ALLOW_TEST_HASH_COST")
"""Variables of the ``userflow local`` process that reach functions (tests lower hash cost)."""


class FunctionError(Exception):
    """The function raised: Lambda reports an ``Unhandled`` function error."""


@dataclass
class LambdaContext:
    """What Lambda passes as ``context``, with the function's real name, memory and deadline."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class LocalFunction:
    """A template function as the invoker needs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]


class Invoker:
    """Runs template functions by logical id in this process."""

    def __init__(
        self, template: Template, stack: Stack, local_values: dict[str, str] | None = None
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
            properties = self.template.function_properties(logical_id)
            record = self.stack.resources[logical_id]
            self._functions[logical_id] = LocalFunction(
                logical_id=logical_id,
                name=record["physical_id"],
                arn=record["arn"],
                handler=str(properties["Handler"]),
                memory_mb=int(properties.get("MemorySize", 128)),
                timeout_s=int(properties.get("Timeout", 3)),
                environment=function_environment(self.template, logical_id, self.stack),
            )
        return self._functions[logical_id]

    def runtime_environment(self, function: LocalFunction) -> dict[str, str]:
        """What Lambda's runtime sets, then the function's own variables, then local overrides."""
        region = self.stack.region or "us-east-1"
        env = {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": LOCAL_SESSION_TOKEN,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "_HANDLER": function.handler,
            **function.environment,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        if self.stack.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.stack.endpoint_url
        env.update({k: v for k, v in self.local_values.items() if k in function.environment})
        env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
        return env

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
        return LambdaContext(
            function_name=function.name,
            function_version="$LATEST",
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_mb,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function.name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
            deadline=time.monotonic() + function.timeout_s,
        )

    def invoke(self, logical_id: str, event: Any) -> Any:
        """The function's result; raises :class:`FunctionError` when the function raised."""
        function = self.function(logical_id)
        with self._lock, self._environment(self.runtime_environment(function)):
            try:
                handler = self._handler(function)
                context = self.context(function)
                result = handler(event, context)
            except Exception as error:
                log.exception("function %s failed", logical_id)
                raise FunctionError(f"{type(error).__name__} in {logical_id}") from error
            elapsed = function.timeout_s * 1000 - context.get_remaining_time_in_millis()
            if context.get_remaining_time_in_millis() == 0:
                log.error("function %s ran past its %ss timeout", logical_id, function.timeout_s)
                raise FunctionError(f"Task timed out after {elapsed / 1000:.2f} seconds")
            return result

    def warm_up(self, logical_ids: list[str]) -> None:
        """Imports handlers ahead of the first request (run in the background)."""
        for logical_id in logical_ids:
            function = self.function(logical_id)
            with self._lock, self._environment(self.runtime_environment(function)):
                try:
                    self._handler(function)
                except Exception:
                    log.exception("cannot import the handler of %s", logical_id)
