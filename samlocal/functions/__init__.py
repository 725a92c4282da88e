"""Lambda's part: template functions run as Lambda runs them — each in execution environments of
its own (``pool``, ``function_pool``, ``environment``, ``worker``), or in this process for tests
whose moto is in-process too (``in_process``) — and the Parameters and Secrets extension they
may call (``parameters_extension``)."""

from samlocal.functions.config import (
    LOCAL_SESSION_TOKEN,
    FunctionError,
    Invoke,
    LocalFunction,
    load_function,
    runtime_environment,
)
from samlocal.functions.in_process import Invoker
from samlocal.functions.parameters_extension import ParametersExtension, ttls_from_template
from samlocal.functions.pool import WorkerPool

__all__ = [
    "LOCAL_SESSION_TOKEN",
    "FunctionError",
    "Invoke",
    "Invoker",
    "LocalFunction",
    "ParametersExtension",
    "WorkerPool",
    "load_function",
    "runtime_environment",
    "ttls_from_template",
]
