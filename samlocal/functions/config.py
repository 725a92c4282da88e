"""What the emulator knows of a template function, what invoking one means, and its context.

:func:`runtime_environment` is the one place a function's environment is built — Lambda's
reserved variables, the template's ``Environment``, the local endpoint — so an extension that
gives functions more (a mirror of a Lambda extension, say) adds its variables there.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from samlocal.provision import ProvisionedStack, function_environment
from samlocal.template import Template

LOCAL_SESSION_TOKEN = "testing"  # noqa: S105 - a fake credential for moto
"""The functions' ``AWS_SESSION_TOKEN`` (and so the parameters extension's token) locally."""


class FunctionError(Exception):
    """The function raised, timed out or its runtime died: Lambda reports a function error."""


class Invoke(Protocol):
    """Runs a template function: the gateway, authorizers and stream pollers all invoke so."""

    def __call__(self, function: str, event: Any, /) -> Any:
        """The result of ``function`` (a logical id) for ``event``; raises
        :class:`FunctionError` on a function error or a timeout."""


@dataclass(frozen=True)
class LocalFunction:
    """A template function as the runtime needs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]


def load_function(template: Template, stack: ProvisionedStack, logical_id: str) -> LocalFunction:
    """The function's settings and resolved environment (``Globals`` included)."""
    properties = template.function_properties(logical_id)
    record = stack.resources[logical_id]
    return LocalFunction(
        logical_id=logical_id,
        name=record["physical_id"],
        arn=record["arn"],
        handler=str(properties["Handler"]),
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_s=int(properties.get("Timeout", 3)),
        environment=function_environment(template, logical_id, stack),
    )


def runtime_environment(
    function: LocalFunction,
    stack: ProvisionedStack,
    local_values: Mapping[str, str] | None = None,
    passed_through: Collection[str] = (),
) -> dict[str, str]:
    """What Lambda's runtime sets, then the function's own variables, then local overrides.

    ``local_values`` stand in for variables the function has (e.g. the parameters extension's
    port); a function without the variable does not get it. ``passed_through``: variables of
    this process that reach every function as they are (a test lowering a cost, say)."""
    region = stack.region or "us-east-1"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
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
    if stack.endpoint_url:
        env["AWS_ENDPOINT_URL"] = stack.endpoint_url
    env.update({k: v for k, v in (local_values or {}).items() if k in function.environment})
    env.update({k: os.environ[k] for k in passed_through if k in os.environ})
    return env


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


def new_context(function: LocalFunction, request_id: str | None = None) -> LambdaContext:
    """A fresh context for one invocation, its deadline ``Timeout`` seconds from now."""
    return LambdaContext(
        function_name=function.name,
        function_version="$LATEST",
        invoked_function_arn=function.arn,
        memory_limit_in_mb=function.memory_mb,
        aws_request_id=request_id or str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function.name}",
        log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        deadline=time.monotonic() + function.timeout_s,
    )
