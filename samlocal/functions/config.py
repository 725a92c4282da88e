"""What the local runtime knows of a template function, and what one invocation of it reports.

:func:`runtime_environment` is the one place a function's environment is built — Lambda's
reserved variables, the template's ``Environment``, the local endpoint — so an extension that
gives functions more (a mirror of a Lambda extension, say) adds its variables there.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from samlocal.template import Template
from userflow.stack import Stack

log = logging.getLogger("userflow-local")

LOCAL_SESSION_TOKEN = "testing"  # noqa: S105 - a fake credential for moto
"""The functions' ``AWS_SESSION_TOKEN`` (and so the parameters extension's token) locally."""
PASSED_THROUGH = ("USERFLOW_SCRYPT_LOG2_N", "USERFLOW_ALLOW_TEST_HASH_COST")
"""Variables of the ``userflow local`` process that reach functions (tests lower hash cost)."""


class FunctionError(Exception):
    """The function raised, timed out or its runtime died: Lambda reports a function error."""


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


def load_function(template: Template, stack: Stack, logical_id: str) -> LocalFunction:
    """The function's settings and resolved environment (``Globals`` included)."""
    from samlocal.provision.stacks import function_environment

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
    function: LocalFunction, stack: Stack, local_values: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What Lambda's runtime sets, then the function's own variables, then local overrides.

    ``local_values`` stand in for variables the function has (e.g. the parameters extension's
    port); a function without the variable does not get it."""
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
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
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


@dataclass(frozen=True)
class InvocationReport:
    """Lambda's ``REPORT`` line for one invocation; ``init_ms`` only on a cold start."""

    function: str
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_mb: int | None = None
    init_ms: float | None = None
    error: str | None = None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None

    def line(self) -> str:
        text = (
            f"REPORT {self.function} RequestId: {self.request_id} "
            f"Duration: {self.duration_ms:.2f} ms Billed Duration: {int(self.duration_ms) + 1} ms "
            f"Memory Size: {self.memory_mb} MB"
        )
        if self.max_memory_mb is not None:
            text += f" Max Memory Used: {self.max_memory_mb} MB"
        if self.init_ms is not None:
            text += f" Init Duration: {self.init_ms:.2f} ms"
        return text + (f" Status: {self.error}" if self.error else "")


_reports: ContextVar[list[InvocationReport] | None] = ContextVar("reports", default=None)


@contextmanager
def collecting_reports() -> Iterator[list[InvocationReport]]:
    """Gathers the reports of the invocations made in this context (one HTTP request's)."""
    reports: list[InvocationReport] = []
    token = _reports.set(reports)
    try:
        yield reports
    finally:
        _reports.reset(token)


def publish_report(report: InvocationReport) -> None:
    """Logs the REPORT line (shown with ``--verbose``) and hands it to the collecting request."""
    log.debug(report.line(), extra={"report": report})
    sink = _reports.get()
    if sink is not None:
        sink.append(report)
