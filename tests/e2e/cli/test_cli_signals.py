"""`userflow events tail` stopped by SIGTERM (a supervisor, `timeout`) or SIGHUP (a dropped SSH
session, a closed terminal) cleans up as on Ctrl-C: its temporary rule and queue are gone from the
local stack afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest

from tests.support.local_stack import REPO, LocalStack

pytestmark = pytest.mark.e2e
TAIL_PREFIX = "userflow-tail-"


def _client(stack: LocalStack, service: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.endpoint_url,
        region_name=stack.state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",  # the local emulation checks nothing
    )


def _temporary(stack: LocalStack) -> set[str]:
    bus = stack.state["resources"]["UserEventsBus"]["physical_id"]
    rules = _client(stack, "events").list_rules(EventBusName=bus, NamePrefix=TAIL_PREFIX)
    queues = _client(stack, "sqs").list_queues(QueueNamePrefix=TAIL_PREFIX)
    return {rule["Name"] for rule in rules["Rules"]} | {
        url.rsplit("/", 1)[-1] for url in queues.get("QueueUrls", [])
    }


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_given_a_running_tail_when_stopped_by_a_signal_then_its_rule_and_queue_are_removed(
    local_stack: LocalStack, stop: signal.Signals
) -> None:
    before = _temporary(local_stack)
    tail = subprocess.Popen(
        [sys.executable, "-m", "userflow.cli", "events", "tail"],
        cwd=REPO,
        env=local_stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert tail.stderr is not None
        first = tail.stderr.readline()
        assert first.startswith("target: local stack"), first
        assert "tailing" in tail.stderr.readline()
        deadline = time.monotonic() + 10
        while _temporary(local_stack) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        created = _temporary(local_stack) - before
        assert len(created) == 1  # one name for the rule and its queue

        tail.send_signal(stop)
        tail.wait(timeout=30)
    finally:
        if tail.poll() is None:
            tail.kill()

    assert tail.returncode == 0, tail.stderr.read() if tail.stderr else ""
    assert _temporary(local_stack) & created == set()
