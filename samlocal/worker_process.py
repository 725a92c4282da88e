"""One execution environment: a process that imports one function's handler and runs its events.

Started by :mod:`samlocal.functions.pool` with the function's environment only (as Lambda starts
an environment). The init phase imports the handler once; each invocation then gets the event
and a fresh context, and answers with the result or the error. Everything the function prints or
logs goes to this process's stdout/stderr, which the runtime shows as the function's log; the
protocol uses two other pipes, so ``print`` in a handler cannot corrupt it. It sits outside
``samlocal.functions`` so that, as in Lambda, nothing but the standard library is imported
before the handler (a package's ``__init__`` would count in every cold start's Init Duration).

Usage: ``python -m samlocal.worker_process REQUEST_FD REPLY_FD SOURCE_DIR FUNCTION_JSON``.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
import traceback
import warnings
from multiprocessing.connection import Connection
from typing import Any

END_OF_OUTPUT = "\x1e-samlocal-end-of-invocation"
"""A line a worker prints after each invocation's output (no function prints it)."""

LIBRARY_WARNINGS = r"(aws_lambda_powertools|boto3|botocore|pydantic)(\.|$)"
"""Libraries whose warnings (e.g. Powertools' "No application metrics") are noise locally."""


def _max_memory_mb() -> int:
    """Peak resident memory of this process (``VmHWM``; ``ru_maxrss`` would count the memory of
    the runtime process this one was forked from before its exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _error(error: BaseException) -> dict[str, str]:
    """Lambda's error shape; the traceback goes to the function's log, as Lambda prints it."""
    sys.stderr.write(f"[ERROR] {type(error).__name__}: {error}\n")
    traceback.print_exception(error, file=sys.stderr)
    sys.stderr.flush()
    return {"errorType": type(error).__name__, "errorMessage": str(error)}


def main(argv: list[str]) -> int:
    from samlocal.functions.config import LocalFunction, new_context

    request_fd, reply_fd, source_dir, spec = argv
    requests = Connection(int(request_fd), writable=False)
    replies = Connection(int(reply_fd), readable=False)
    function = LocalFunction(**json.loads(spec))
    warnings.filterwarnings("ignore", module=LIBRARY_WARNINGS)
    sys.path.insert(0, source_dir)
    try:
        module_name, _, attribute = function.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:
        replies.send_bytes(json.dumps({"initError": _error(error)}).encode())
        return 1
    replies.send_bytes(json.dumps({"ready": True}).encode())
    while True:
        try:
            message = json.loads(requests.recv_bytes())
        except EOFError:
            return 0
        started = time.monotonic()
        reply: dict[str, Any]
        try:
            result = handler(message["event"], new_context(function, message["requestId"]))
            reply = {"result": json.dumps(result)}
        except Exception as error:
            reply = {"error": _error(error)}
        # Marks the end of this invocation's output, so the runtime shows it before the reply.
        sys.stdout.write(f"\n{END_OF_OUTPUT}\n")
        sys.stdout.flush()
        reply |= {
            "durationMs": (time.monotonic() - started) * 1000,
            "maxMemoryMb": _max_memory_mb(),
        }
        replies.send_bytes(json.dumps(reply).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
