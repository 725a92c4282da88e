"""`userflow local` stops cleanly on Ctrl-C (SIGINT) and SIGTERM, even while it is starting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.local_stack import REPO, start_local_stack

pytestmark = pytest.mark.e2e


def _stopped_cleanly(log: str, state_dir: Path) -> None:
    assert "Traceback" not in log
    assert log.rstrip().endswith("userflow local stopped")
    assert not (state_dir / "local.json").exists()


def _wait_for_exit(pid: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return  # exited; its parent (the fixture) reaps it
        time.sleep(0.05)
    raise AssertionError(f"userflow local (pid {pid}) still running {timeout}s after the signal")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_given_a_running_stack_when_signalled_then_it_exits_and_frees_its_ports(
    tmp_path: Path, signum: signal.Signals
) -> None:
    with start_local_stack(tmp_path) as stack:
        os.kill(stack.state["pid"], signum)
        _wait_for_exit(stack.state["pid"])

    _stopped_cleanly((tmp_path / "userflow-local.log").read_text(), stack.state_dir)
    for url in (stack.api_url, stack.endpoint_url):
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=2)


def test_given_a_stack_starting_when_ctrl_c_then_it_exits_0_without_a_traceback(
    tmp_path: Path,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "USERFLOW_STATE_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "userflow.cli", "local", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the first log line: provisioning has begun
    assert "starting" in line
    process.send_signal(signal.SIGINT)

    log, _ = process.communicate(timeout=30)

    assert process.returncode == 0
    _stopped_cleanly(log, tmp_path)
