"""`userflow fail-rate` changes a running stack's failures; a drill ends with empty DLQs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from tests.support.local_stack import start_local_stack

pytestmark = pytest.mark.e2e


def test_given_all_putevents_failing_when_the_rate_is_lowered_and_replayed_then_dlqs_end_empty(
    tmp_path: Path,
) -> None:
    with start_local_stack(tmp_path, "--fail-rate", "putevents=1") as stack:
        sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name="us-east-1")
        resources = stack.state["resources"]
        failure_queue = resources["UserStreamFailureQueue"]["physical_id"]
        subscriber = resources["ExampleSubscriberQueue"]["physical_id"]
        registration = {
            "email": "drill@example.com",
            "password": "correct horse battery",
            "name": "D",
        }
        created = stack.request("POST", "/users", json_body=registration)
        assert created.status == 201, created.body

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _depth(sqs, failure_queue) == 0:
            time.sleep(0.5)
        assert _depth(sqs, failure_queue) == 1  # every attempt failed: the batch was given up

        shown = stack.run("userflow.cli", "fail-rate")
        changed = stack.run("userflow.cli", "fail-rate", "putevents=0")
        replay = stack.run("userflow.cli", "dlq", "replay")

        assert shown.returncode == 0
        assert "local stack userflow-local" in shown.stdout
        assert "putevents=1" in shown.stdout
        assert changed.returncode == 0, changed.stderr
        assert "injected failures none (were putevents=1)" in changed.stdout
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert _depth(sqs, failure_queue) == 0
        message = sqs.receive_message(QueueUrl=subscriber, WaitTimeSeconds=5)["Messages"][0]
        assert json.loads(message["Body"])["detail"]["user"]["id"] == created.json()["id"]


def _depth(sqs: object, url: str) -> int:
    attributes = sqs.get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_given_no_local_stack_when_changing_fail_rates_then_it_says_so_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from userflow.cli import main

    monkeypatch.setenv("USERFLOW_STATE_DIR", str(tmp_path))

    assert main(["fail-rate", "putevents=0"]) == 2
    assert "no local stack is running" in capsys.readouterr().err
