"""Invocations share this machine's cores: at most ``max_running`` run at once, and the wait for
a turn is not counted in the function's Timeout (Lambda gives each environment its own CPU)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from samlocal.functions.pool import WorkerPool, default_max_running
from samlocal.template import load_template
from tests.support.probe_template import write_probe_template
from userflow.stack import Stack


def _slow(seconds: float) -> dict[str, Any]:
    return {"queryStringParameters": {"s": str(seconds)}}


def test_given_one_running_slot_when_two_calls_come_then_both_run_in_turn_within_timeout(
    tmp_path: Path,
) -> None:
    template = load_template(write_probe_template(tmp_path / "source"))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:slow"
    resources = {
        "SlowFunction": {"physical_id": "slow", "arn": arn, "type": "AWS::Lambda::Function"}
    }
    stack = Stack(
        name="probe", region="us-east-1", endpoint_url="http://127.0.0.1:9", resources=resources
    )
    workers = WorkerPool(template, stack, max_per_function=2, max_running=1)
    try:
        workers.invoke("SlowFunction", _slow(0))  # one warm environment
        started = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            # Timeout 2 s each: the second waits ~1.5 s for its turn, then runs 1.5 s.
            results = list(pool.map(lambda _: workers.invoke("SlowFunction", _slow(1.5)), [1, 2]))
        elapsed = time.monotonic() - started
    finally:
        workers.close()

    assert len(results) == 2
    assert elapsed >= 3.0  # one after the other


def test_given_the_default_then_at_least_two_invocations_per_core_run_at_once() -> None:
    assert default_max_running() >= 4
