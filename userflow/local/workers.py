"""Execution environments like Lambda's: worker processes per function, pooled and reused.

Each function gets its own pool of worker processes (:mod:`userflow.local.worker`), started with
that function's environment only. An invocation takes an idle worker (warm) or, while the pool
is below ``max_per_function``, starts one (a cold start: the init phase imports the handler);
otherwise it waits for one to come back. Different functions, and the same function, run in
parallel. A worker that runs past the function's ``Timeout`` is killed and the invocation is a
function error, as Lambda stops the environment. Every invocation publishes a ``REPORT``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from userflow.local.functions import (
    FunctionError,
    InvocationReport,
    LocalFunction,
    load_function,
    publish_report,
    runtime_environment,
)
from userflow.local.template import Template
from userflow.local.worker import END_OF_OUTPUT
from userflow.stack import Stack

log = logging.getLogger("userflow-local")
output_log = logging.getLogger("userflow-local.function")

INIT_LIMIT_S = 30.0
"""Lambda allows 10 s of init; a cold interpreter on a busy laptop may need more."""


class WorkerGone(Exception):
    """The worker did not answer in time, or its process ended."""


class Worker:
    """One worker process and the two pipes of its protocol."""

    def __init__(self, function: LocalFunction, environment: dict[str, str], source: str) -> None:
        self.function = function
        self.spawned = time.monotonic()
        self._output_shown = threading.Event()
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        spec = json.dumps(dataclasses.asdict(function))
        command = [sys.executable, "-u", "-m", "userflow.local.worker"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, str(request_read), str(reply_write), source, spec],
            env=environment,
            cwd=source,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(request_read, reply_write),
        )
        os.close(request_read)
        os.close(reply_write)
        self._requests = Connection(request_write, readable=False)
        self._replies = Connection(reply_read, writable=False)
        self._output = threading.Thread(
            target=self._forward_output, name=f"log-{function.logical_id}", daemon=True
        )
        self._output.start()

    def _forward_output(self) -> None:
        """Shows each line the function prints or logs as it comes (Lambda's log stream)."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if line == END_OF_OUTPUT:
                self._output_shown.set()
            elif line:
                output_log.info(line, extra={"function": self.function.logical_id})

    def _receive(self, limit_s: float) -> dict[str, Any]:
        try:
            if not self._replies.poll(limit_s):
                raise WorkerGone(f"no answer in {limit_s:.2f} s")
            message: dict[str, Any] = json.loads(self._replies.recv_bytes())
        except (EOFError, OSError) as error:
            raise WorkerGone(f"worker exited ({self.process.poll()})") from error
        return message

    def initialise(self) -> float:
        """Waits for the init phase; its duration in ms, from the process's start (as Lambda's
        ``Init Duration`` counts the runtime's start-up too)."""
        message = self._receive(INIT_LIMIT_S)
        if "initError" in message:
            raise FunctionError(f"init failed: {message['initError']['errorType']}")
        return (time.monotonic() - self.spawned) * 1000

    def invoke(self, event: Any, request_id: str) -> dict[str, Any]:
        """The worker's reply, once the invocation's output has been shown."""
        self._output_shown.clear()
        self._requests.send_bytes(json.dumps({"event": event, "requestId": request_id}).encode())
        reply = self._receive(float(self.function.timeout_s))
        self._output_shown.wait(timeout=1)
        return reply

    def stop(self) -> None:
        """Kills the process (Lambda stops a timed-out environment the same way)."""
        self.process.kill()
        self.process.wait()
        self._requests.close()
        self._replies.close()
        self._output.join(timeout=1)


class FunctionPool:
    """The workers of one function: idle ones are reused, new ones started up to a limit."""

    def __init__(
        self, function: LocalFunction, environment: dict[str, str], source: str, max_size: int
    ) -> None:
        self.function = function
        self.environment = environment
        self.source = source
        self.max_size = max_size
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._changed = threading.Condition()

    def acquire(self) -> tuple[Worker, float | None]:
        """A warm worker (init None) or a new one with its init duration."""
        with self._changed:
            while not self._idle and len(self._all) >= self.max_size:
                self._changed.wait()
            if self._idle:
                return self._idle.pop(), None
            worker = Worker(self.function, self.environment, self.source)
            self._all.add(worker)
        try:
            return worker, worker.initialise()
        except (FunctionError, WorkerGone):
            self.discard(worker)
            raise

    def release(self, worker: Worker) -> None:
        with self._changed:
            self._idle.append(worker)
            self._changed.notify()

    def discard(self, worker: Worker) -> None:
        worker.stop()
        with self._changed:
            self._all.discard(worker)
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            workers, self._idle = list(self._all), []
            self._all.clear()
        for worker in workers:
            worker.stop()


class WorkerPool:
    """Invokes template functions by logical id, each in its own execution environments."""

    def __init__(
        self,
        template: Template,
        stack: Stack,
        *,
        max_per_function: int = 4,
        local_values: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.stack = stack
        self.local_values = dict(local_values or {})
        self.max_per_function = max_per_function
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, logical_id: str) -> FunctionPool:
        with self._lock:
            if logical_id not in self._pools:
                function = load_function(self.template, self.stack, logical_id)
                self._pools[logical_id] = FunctionPool(
                    function,
                    runtime_environment(function, self.stack, self.local_values),
                    str(self.template.base_dir),
                    self.max_per_function,
                )
            return self._pools[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        """The function's result; raises :class:`FunctionError` on an error or a timeout."""
        pool = self._pool(logical_id)
        function = pool.function
        request_id = str(uuid.uuid4())
        try:
            worker, init_ms = pool.acquire()
        except (FunctionError, WorkerGone) as error:
            log.error("%s could not start: %s", logical_id, error)
            raise FunctionError(f"{logical_id}: {error}") from error
        started = time.monotonic()
        try:
            reply = worker.invoke(event, request_id)
        except WorkerGone as error:
            pool.discard(worker)
            elapsed_ms = (time.monotonic() - started) * 1000
            timed_out = elapsed_ms >= function.timeout_s * 1000
            reason = (
                f"Task timed out after {elapsed_ms / 1000:.2f} seconds"
                if timed_out
                else f"Runtime exited: {error}"
            )
            log.error("%s %s", logical_id, reason, extra={"function_error": logical_id})
            publish_report(
                InvocationReport(
                    logical_id, request_id, elapsed_ms, function.memory_mb, None, init_ms, reason
                )
            )
            raise FunctionError(f"{logical_id}: {reason}") from error
        except BaseException:
            # Stopped mid-exchange (an event it cannot send, an interrupt): its state is unknown,
            # and kept out of the pool it would never be released.
            pool.discard(worker)
            raise
        pool.release(worker)
        failure = reply.get("error")
        publish_report(
            InvocationReport(
                logical_id,
                request_id,
                float(reply["durationMs"]),
                function.memory_mb,
                int(reply["maxMemoryMb"]),
                init_ms,
                failure["errorType"] if failure else None,
            )
        )
        if failure:
            raise FunctionError(f"{failure['errorType']} in {logical_id}")
        return json.loads(reply["result"])

    def close(self) -> None:
        """Stops every worker (at shutdown)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
