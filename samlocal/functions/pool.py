"""Execution environments like Lambda's: worker processes per function, pooled and reused.

Each function gets its own pool of worker processes (:mod:`samlocal.functions.worker`), started with
that function's environment only. An invocation takes an idle worker (warm) or, while the pool
is below ``max_per_function``, starts one (a cold start: the init phase imports the handler);
otherwise it waits for one to come back. Different functions, and the same function, run in
parallel. A worker that runs past the function's ``Timeout`` is killed and the invocation is a
function error, as Lambda stops the environment. A worker that exited while idle is replaced
when next needed (a cold start), never a failed request; one that dies while running an event
makes that invocation a function error (a 500 at the gateway), logged once, as on Lambda. Every
invocation publishes a ``REPORT``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

from samlocal.functions.config import (
    FunctionError,
    InvocationReport,
    LocalFunction,
    load_function,
    publish_report,
    runtime_environment,
)
from samlocal.functions.environment import Worker, WorkerDead, WorkerGone
from samlocal.template import Template
from userflow.stack import Stack

log = logging.getLogger("userflow-local")

HAND_OVER_ATTEMPTS = 3
"""Workers tried for one event when each is found dead as it is handed over (then a 500)."""


def default_max_running() -> int:
    """Invocations running at once by default: two per core (a function also waits on the
    emulator, which runs on the same cores), at least 4."""
    return max(4, 2 * (os.cpu_count() or 1))


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
        """A warm worker (init None) or a new one with its init duration. An idle worker whose
        process has ended is dropped on the way, as Lambda replaces a dead environment."""
        with self._changed:
            while True:
                while not self._idle and len(self._all) >= self.max_size:
                    self._changed.wait()
                if not self._idle:
                    break
                worker = self._idle.pop()
                if worker.alive:
                    return worker, None
                self._forget(worker)
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

    def drop_dead(self, worker: Worker) -> None:
        """Drops a worker found dead when handed an event."""
        with self._changed:
            self._forget(worker)
            self._changed.notify()

    def _forget(self, worker: Worker) -> None:
        """Drops a worker found dead (called with ``_changed`` held)."""
        log.info(
            "%s: an idle environment had exited (%s); starting a new one",
            self.function.logical_id,
            worker.process.returncode,
        )
        worker.stop()
        self._all.discard(worker)

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
        max_running: int | None = None,
        local_values: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.stack = stack
        self.local_values = dict(local_values or {})
        self.max_per_function = max_per_function
        # Lambda gives every environment its own CPU; here they share this machine's cores.
        # More invocations running at once than the cores can serve only makes each one slower
        # — past its Timeout, first of all a cold start's first invocation — so at most
        # ``max_running`` run at once and the rest wait their turn, a wait that, like time
        # spent queued for a free environment, is not counted in the function's Timeout.
        self._running = threading.BoundedSemaphore(max_running or default_max_running())
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

    def _acquire(self, pool: FunctionPool) -> tuple[Worker, float | None]:
        try:
            return pool.acquire()
        except (FunctionError, WorkerGone) as error:
            log.error("%s could not start: %s", pool.function.logical_id, error)
            raise FunctionError(f"{pool.function.logical_id}: {error}") from error

    def invoke(self, logical_id: str, event: Any) -> Any:
        """The function's result; raises :class:`FunctionError` on an error or a timeout.

        A worker found dead when handed the event (it died between the check on acquiring and
        the hand-over) ran nothing: the event goes to another, as Lambda would."""
        pool = self._pool(logical_id)
        function = pool.function
        request_id = str(uuid.uuid4())
        for _ in range(HAND_OVER_ATTEMPTS):
            worker, init_ms, reply = self._run(pool, event, request_id)
            if reply is not None:
                break
        else:
            raise FunctionError(f"{logical_id}: no environment took the event")
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

    def _run(
        self, pool: FunctionPool, event: Any, request_id: str
    ) -> tuple[Worker, float | None, dict[str, Any] | None]:
        """One hand-over, in a running slot: the worker, its init duration if it was started
        for this, and its reply — None if it was found dead before it got the event."""
        with self._running:
            worker, init_ms = self._acquire(pool)
            started = time.monotonic()
            try:
                return worker, init_ms, worker.invoke(event, request_id)
            except WorkerDead:
                pool.drop_dead(worker)
                return worker, init_ms, None
            except WorkerGone as error:
                self._function_error(
                    pool,
                    worker,
                    request_id=request_id,
                    started=started,
                    init_ms=init_ms,
                    error=error,
                )
            except BaseException:
                # Stopped mid-exchange (an event it cannot send, an interrupt): its state is
                # unknown, and kept out of the pool it would never be released.
                pool.discard(worker)
                raise

    def _function_error(
        self,
        pool: FunctionPool,
        worker: Worker,
        *,
        request_id: str,
        started: float,
        init_ms: float | None,
        error: WorkerGone,
    ) -> NoReturn:
        """A worker that timed out or died with the event: stopped, reported and logged once,
        and the invocation is a function error (500 at the gateway), as on Lambda."""
        function = pool.function
        pool.discard(worker)
        elapsed_ms = (time.monotonic() - started) * 1000
        timed_out = elapsed_ms >= function.timeout_s * 1000
        reason = (
            f"Task timed out after {elapsed_ms / 1000:.2f} seconds"
            if timed_out
            else f"Runtime exited: {error}"
        )
        logical_id = function.logical_id
        log.error("%s %s", logical_id, reason, extra={"function_error": logical_id})
        publish_report(
            InvocationReport(
                logical_id, request_id, elapsed_ms, function.memory_mb, None, init_ms, reason
            )
        )
        raise FunctionError(f"{logical_id}: {reason}") from error

    def close(self) -> None:
        """Stops every worker (at shutdown)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
