"""Execution environments like Lambda's: worker processes per function, pooled and reused.

Each function gets its own pool of worker processes (:mod:`samlocal.functions.function_pool`),
started with that function's environment only. Different functions, and the same function, run
in parallel. A worker that runs past the function's ``Timeout`` is killed and the invocation is
a function error, as Lambda stops the environment. A worker that exited while idle is replaced
when next needed (a cold start), never a failed request; one that dies while running an event
makes that invocation a function error (a 500 at the gateway), logged once, as on Lambda. Workers
idle for ``idle_timeout_s`` end, as Lambda ends idle environments. Every invocation publishes a
``REPORT``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from samlocal.functions.config import FunctionError, load_function, runtime_environment
from samlocal.functions.environment import Worker, WorkerDead, WorkerGone
from samlocal.functions.function_pool import FunctionPool
from samlocal.functions.reports import InvocationReport, publish_report
from samlocal.provision import ProvisionedStack
from samlocal.template import Template

log = logging.getLogger("samlocal")

HAND_OVER_ATTEMPTS = 3
"""Workers tried for one event when each is found dead as it is handed over (then a 500)."""
DEFAULT_IDLE_TIMEOUT_S = 300.0
"""How long an environment may sit idle before it ends (Lambda's is minutes, not documented)."""


def default_max_running() -> int:
    """Invocations running at once by default: two per core (a function also waits on the
    emulator, which runs on the same cores), at least 4."""
    return max(4, 2 * (os.cpu_count() or 1))


class WorkerPool:
    """Invokes template functions by logical id, each in its own execution environments."""

    def __init__(
        self,
        template: Template,
        stack: ProvisionedStack,
        *,
        max_per_function: int = 4,
        max_running: int | None = None,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        local_values: Mapping[str, str] | None = None,
        passed_through: Collection[str] = (),
    ) -> None:
        self.template = template
        self.stack = stack
        self.local_values = dict(local_values or {})
        self.passed_through = tuple(passed_through)
        self.max_per_function = max_per_function
        self.idle_timeout_s = idle_timeout_s
        # Lambda gives every environment its own CPU; here they share this machine's cores.
        # More invocations running at once than the cores can serve only makes each one slower
        # — past its Timeout, first of all a cold start's first invocation — so at most
        # ``max_running`` run at once and the rest wait their turn, a wait that, like time
        # spent queued for a free environment, is not counted in the function's Timeout.
        self._running = threading.BoundedSemaphore(max_running or default_max_running())
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._idle_sweeper = threading.Thread(
            target=self._end_idle_workers, name="idle-environments", daemon=True
        )
        self._idle_sweeper.start()

    def _pool(self, logical_id: str) -> FunctionPool:
        with self._lock:
            if logical_id not in self._pools:
                function = load_function(self.template, self.stack, logical_id)
                self._pools[logical_id] = FunctionPool(
                    function,
                    runtime_environment(
                        function, self.stack, self.local_values, self.passed_through
                    ),
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

    def _end_idle_workers(self) -> None:
        """Ends, every few seconds, the workers idle for ``idle_timeout_s``."""
        interval = min(10.0, max(0.05, self.idle_timeout_s / 4))
        while not self._closed.wait(interval):
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                pool.end_idle(self.idle_timeout_s)

    def workers(self, logical_id: str) -> int:
        """The function's workers alive or starting (none before its first invocation)."""
        with self._lock:
            pool = self._pools.get(logical_id)
        return pool.size if pool else 0

    def close(self) -> None:
        """Stops every worker (at shutdown)."""
        self._closed.set()
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
