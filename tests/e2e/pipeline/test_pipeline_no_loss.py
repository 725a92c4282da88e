"""No change is lost: with 30% of PutEvents entries failing, every user change still reaches the
subscriber (at least once, duplicates sharing an event_id) once `userflow dlq replay` has run."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.support.local_stack import LocalStack, start_local_stack
from tests.support.stream_records import assert_published_event_is_valid

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.e2e
USERS = 6
DEAD_LETTER_QUEUES = ("UserStreamFailureQueue", "UserStreamPoisonQueue", "ExampleSubscriberDLQ")


def _make_changes(stack: LocalStack, tag: str) -> set[tuple[str, str]]:
    """Create, update and (every other one) delete users over HTTP; the expected events."""
    expected: set[tuple[str, str]] = set()
    for number in range(USERS):
        email, password = f"noloss-{tag}-{number}@example.com", "correct horse battery staple"
        created = stack.request(
            "POST", "/users", json_body={"email": email, "password": password, "name": "Before"}
        )
        assert created.status == 201, created.body
        user_id = created.json()["id"]
        login = stack.request(
            "POST", "/auth/login", json_body={"email": email, "password": password}
        )
        assert login.status == 200, login.body
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        updated = stack.request(
            "PATCH", f"/users/{user_id}", json_body={"name": "After"}, headers=bearer
        )
        assert updated.status == 200, updated.body
        expected |= {(user_id, "UserCreated"), (user_id, "UserUpdated")}
        if number % 2:
            assert stack.request("DELETE", f"/users/{user_id}", headers=bearer).status == 204
            expected.add((user_id, "UserDeleted"))
    return expected


def _collect(
    sqs: SQSClient, url: str, into: list[dict[str, Any]], until: set[tuple[str, str]]
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in messages.get("Messages", []):
            into.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        seen = {(e["detail"]["user"]["id"], e["detail-type"]) for e in into}
        if until <= seen:
            return


def test_given_failing_putevents_when_users_change_and_dlqs_are_replayed_then_nothing_is_lost(
    tmp_path: Path,
) -> None:
    with start_local_stack(tmp_path, "--fail-rate", "putevents=0.3") as stack:
        sqs = boto3.client(
            "sqs", endpoint_url=stack.endpoint_url, region_name=stack.state["region"]
        )
        resources = stack.state["resources"]
        subscriber = resources["ExampleSubscriberQueue"]["physical_id"]
        expected = _make_changes(stack, tmp_path.name[-12:])
        events: list[dict[str, Any]] = []
        _collect(sqs, subscriber, events, expected)

        replay = stack.run("userflow.cli", "dlq", "replay")
        assert replay.returncode == 0, replay.stdout + replay.stderr
        _collect(sqs, subscriber, events, expected)

        seen = {(e["detail"]["user"]["id"], e["detail-type"]) for e in events}
        assert expected <= seen
        ids_per_change: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for event in events:
            assert_published_event_is_valid(event)
            detail = event["detail"]
            change = (detail["user"]["id"], event["detail-type"], detail["user"]["version"])
            ids_per_change[change].add(detail["event_id"])
        assert all(len(ids) == 1 for ids in ids_per_change.values()), ids_per_change
        for logical_id in DEAD_LETTER_QUEUES:
            attributes = sqs.get_queue_attributes(
                QueueUrl=resources[logical_id]["physical_id"],
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]
            assert attributes["ApproximateNumberOfMessages"] == "0", logical_id
