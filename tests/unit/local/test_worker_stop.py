"""A worker is stopped once, however many parts of the runtime stop it at the same moment (the
pool discarding it while the runtime shuts down): a pipe closed twice at once fails with EBADF."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from samlocal.functions.config import LocalFunction
from samlocal.functions.environment import Worker


def test_given_a_worker_when_many_threads_stop_it_at_once_then_none_fails(tmp_path: Path) -> None:
    function = LocalFunction("EchoFunction", "echo", "arn", "probe.echo", 128, 3, {})
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
    failures: list[BaseException] = []
    for _ in range(3):
        worker = Worker(function, environment, str(tmp_path))
        start = threading.Barrier(8)

        def stop(worker: Worker = worker, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                worker.stop()
            except OSError as error:
                failures.append(error)

        threads = [threading.Thread(target=stop) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not worker.alive

    assert failures == []
