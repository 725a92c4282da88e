"""The execution environments of one function: reused while warm, started up to a limit, ended
after they have been idle a while.

An invocation takes the most recently used idle worker (warm) or, while the pool is below its
size, starts one (a cold start); otherwise it waits for one to come back. Lambda ends an
environment that has had no invocation for a while (minutes; AWS does not say how many), and so
does the pool (:meth:`FunctionPool.end_idle`): the next invocation is a cold start again, and an
idle stack holds no memory for functions no one calls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from samlocal.functions.config import FunctionError, LocalFunction
from samlocal.functions.environment import Worker, WorkerGone

log = logging.getLogger("samlocal")


class FunctionPool:
    """The workers of one function: idle ones are reused, new ones started up to a limit."""

    def __init__(
        self,
        function: LocalFunction,
        environment: dict[str, str],
        source: str,
        max_size: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function = function
        self.environment = environment
        self.source = source
        self.max_size = max_size
        self.clock = clock
        self._idle: list[tuple[Worker, float]] = []
        """Idle workers with the time each came back, the most recently used last."""
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
                worker, _ = self._idle.pop()
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
            self._idle.append((worker, self.clock()))
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

    def end_idle(self, idle_timeout_s: float) -> int:
        """Stops the workers idle for ``idle_timeout_s`` or longer; how many were stopped."""
        cutoff = self.clock() - idle_timeout_s
        with self._changed:
            expired = [worker for worker, since in self._idle if since <= cutoff]
            self._idle = [(worker, since) for worker, since in self._idle if since > cutoff]
            self._all.difference_update(expired)
            self._changed.notify_all()
        for worker in expired:
            worker.stop()
        if expired:
            log.debug(
                "%s: ended %d environment(s) idle for %g s",
                self.function.logical_id,
                len(expired),
                idle_timeout_s,
            )
        return len(expired)

    @property
    def size(self) -> int:
        """Workers alive or starting, idle or busy."""
        with self._changed:
            return len(self._all)

    def close(self) -> None:
        with self._changed:
            workers, self._idle = list(self._all), []
            self._all.clear()
        for worker in workers:
            worker.stop()
