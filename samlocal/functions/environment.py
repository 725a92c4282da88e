"""One execution environment seen from the runtime: a worker process and its two pipes.

:mod:`samlocal.worker_process` is the other end (the process itself);
:mod:`samlocal.functions.pool` pools these per function.
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
from multiprocessing.connection import Connection
from typing import Any

from samlocal.functions.config import FunctionError, LocalFunction
from samlocal.worker_process import END_OF_OUTPUT

output_log = logging.getLogger("samlocal.function")

INIT_LIMIT_S = 30.0
"""Lambda allows 10 s of init; a cold interpreter on a busy laptop may need more."""


class WorkerGone(Exception):
    """The worker did not answer in time, or its process ended."""


class WorkerDead(WorkerGone):
    """The worker's process had ended before it got the invocation: nothing ran."""


class Worker:
    """One worker process and the two pipes of its protocol."""

    def __init__(self, function: LocalFunction, environment: dict[str, str], source: str) -> None:
        self.function = function
        self.spawned = time.monotonic()
        self._output_shown = threading.Event()
        self._stopping = threading.Lock()
        self._stopped = False
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        spec = json.dumps(dataclasses.asdict(function))
        command = [sys.executable, "-u", "-m", "samlocal.worker_process"]
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

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: Any, request_id: str) -> dict[str, Any]:
        """The worker's reply, once the invocation's output has been shown. Raises
        :class:`WorkerDead` if the process had ended before the event reached it."""
        self._output_shown.clear()
        message = json.dumps({"event": event, "requestId": request_id}).encode()
        try:
            self._requests.send_bytes(message)
        except (BrokenPipeError, ConnectionResetError) as error:
            raise WorkerDead(f"worker exited ({self.process.poll()})") from error
        reply = self._receive(float(self.function.timeout_s))
        self._output_shown.wait(timeout=1)
        return reply

    def stop(self) -> None:
        """Kills the process (Lambda stops a timed-out environment the same way). Once: the pool
        may stop a worker it is discarding while the runtime's shutdown stops every worker, and
        a pipe closed twice at once fails with a bad file descriptor."""
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
        self.process.kill()
        self.process.wait()
        self._requests.close()
        self._replies.close()
        self._output.join(timeout=1)
