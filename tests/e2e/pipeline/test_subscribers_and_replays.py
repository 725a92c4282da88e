"""What a subscriber and an operator see on a running `userflow local` (issue 14's scenarios):
a history with deletes folds into the table's users by the README's rule; replays under faults
converge; a replay with a target gone handles the rest and gives the message back at once; a
poison record repaired by hand becomes the user's creation and its DLQ message goes."""

from __future__ import annotations

import json
import random
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from adapters.user_items import user_from_item, user_key
from domain.event_details import COMPARED_FIELDS
from tests.integration.pipeline.test_subscriber_rule import fold
from tests.support.local_stack import LocalStack, start_local_stack
from userflow.event_subscription import queue_policy_for_rule

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"


class Subscriber:
    """An own queue with an own rule on the bus, as a downstream service subscribes."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.sqs = self.client("sqs")
        name = f"e2e-subscriber-{uuid.uuid4().hex[:8]}"
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = self.client("events")
        bus = stack.state["resources"]["UserEventsBus"]["physical_id"]
        rule_arn = events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["userflow.users"]})
        )["RuleArn"]
        # As on AWS, the queue must let EventBridge send from this rule (docs/events.md, "How to
        # subscribe")
        policy = json.dumps(queue_policy_for_rule(arn, rule_arn))
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": policy})
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        self.received: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.stack.endpoint_url,
            region_name=self.stack.state["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.received) and time.monotonic() < deadline:
            for message in self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def kinds(self, user_id: str) -> list[str]:
        return [e["detail-type"] for e in self.received if e["detail"]["user"]["id"] == user_id]


def _register(stack: LocalStack, name: str) -> tuple[str, dict[str, str]]:
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    created = stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": name}
    )
    assert created.status == 201, created.body
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return created.json()["id"], {"Authorization": f"Bearer {login.json()['access_token']}"}


def _table_users(subscriber: Subscriber, ids: set[str]) -> dict[str, dict[str, Any]]:
    dynamodb = subscriber.client("dynamodb")
    table = subscriber.stack.state["resources"]["UserRegistrationTable"]["physical_id"]
    users = {}
    for user_id in ids:
        item = dynamodb.get_item(TableName=table, Key=user_key(user_id)).get("Item")
        if item:
            user = user_from_item(item).model_dump(mode="json")
            users[user_id] = {f: user[f] for f in ("id", *COMPARED_FIELDS)}
    return users


def _history(stack: LocalStack, users: int) -> tuple[set[str], int]:
    """Registers, renames (twice) and deletes every other user; the ids and the change count."""
    ids, changes = set(), 0
    for number in range(users):
        user_id, bearer = _register(stack, "First")
        ids.add(user_id)
        for name in ("Second", "Third"):
            patched = stack.request(
                "PATCH", f"/users/{user_id}", json_body={"name": name}, headers=bearer
            )
            assert patched.status == 200, patched.body
        changes += 3
        if number % 2 == 0:
            deleted = stack.request("DELETE", f"/users/{user_id}", headers=bearer)
            assert deleted.status == 204
            assert deleted.headers.get("apigw-requestid")
            changes += 1
    return ids, changes


def test_given_a_history_with_deletes_when_folded_by_the_documented_rule_then_it_is_the_table(
    local_stack: LocalStack,
) -> None:
    subscriber = Subscriber(local_stack)
    ids, changes = _history(local_stack, users=6)

    def ours(got: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The shared stack also carries other tests' users: only this history counts."""
        return [e for e in got if e["detail"]["user"]["id"] in ids]

    subscriber.wait_for(lambda got: len({e["detail"]["event_id"] for e in ours(got)}) >= changes)

    # At least once, in any order: deliver each event again and shuffle, as retries may.
    delivered = ours(subscriber.received) * 2
    random.Random(14).shuffle(delivered)
    rebuilt = {
        user_id: {f: user[f] for f in ("id", *COMPARED_FIELDS)}
        for user_id, user in fold(delivered).items()
    }

    assert len({e["detail"]["event_id"] for e in ours(subscriber.received)}) == changes
    assert rebuilt == _table_users(subscriber, ids)
    assert len(rebuilt) == 3


def _dlq_depth(subscriber: Subscriber, logical_id: str) -> tuple[int, int]:
    attributes = subscriber.sqs.get_queue_attributes(
        QueueUrl=subscriber.stack.state["resources"][logical_id]["physical_id"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_given_failing_putevents_when_replayed_until_done_then_it_converges_with_empty_dlqs(
    tmp_path: Path,
) -> None:
    with start_local_stack(tmp_path, "--fail-rate", "putevents=0.3") as stack:
        subscriber = Subscriber(stack)
        ids, changes = _history(stack, users=6)
        subscriber.wait_for(lambda got: False, timeout=8)  # the poller's retries run out

        runs: list[subprocess.CompletedProcess[str]] = []
        while len(runs) < 6:
            replay = stack.run("userflow.cli", "dlq", "replay")
            runs.append(replay)
            if replay.returncode == 0:
                break
        subscriber.wait_for(lambda got: len({e["detail"]["event_id"] for e in got}) >= changes)

        assert runs[-1].returncode == 0, runs[-1].stdout + runs[-1].stderr
        assert "summary:" in runs[-1].stdout
        assert len({e["detail"]["event_id"] for e in subscriber.received}) == changes
        rebuilt = {
            k: {f: v[f] for f in ("id", *COMPARED_FIELDS)}
            for k, v in fold(subscriber.received).items()
        }
        assert rebuilt == _table_users(subscriber, ids)
        for logical_id in ("UserStreamFailureQueue", "UserStreamPoisonQueue"):
            assert _dlq_depth(subscriber, logical_id) == (0, 0), logical_id


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose dead-letter queues no other test touches."""
    with start_local_stack(tmp_path_factory.mktemp("replays")) as stack:
        yield stack


def test_given_a_target_queue_that_is_gone_when_replayed_then_the_rest_is_done_and_it_is_back(
    own_stack: LocalStack,
) -> None:
    subscriber = Subscriber(own_stack)
    dlq = own_stack.state["resources"]["ExampleSubscriberDLQ"]["physical_id"]
    gone = subscriber.sqs.create_queue(QueueName="e2e-gone")["QueueUrl"]
    subscriber.sqs.delete_queue(QueueUrl=gone)
    alive = subscriber.sqs.get_queue_attributes(
        QueueUrl=subscriber.url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for target in ("arn:aws:sqs:us-east-1:123456789012:e2e-gone", alive):
        event = {"detail-type": "UserCreated", "detail": {"event_id": target, "user": {"id": "x"}}}
        subscriber.sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "TARGET_ARN": {"DataType": "String", "StringValue": target},
                "ERROR_CODE": {"DataType": "String", "StringValue": "SQS.QueueDoesNotExist"},
            },
        )

    replay = own_stack.run("userflow.cli", "dlq", "replay", "--queue", "ExampleSubscriberDLQ")
    listing = own_stack.run("userflow.cli", "dlq", "list")

    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "e2e-gone cannot be reached" in replay.stdout
    assert "re-drove 1, 1 left" in replay.stdout
    [line] = [x for x in listing.stdout.splitlines() if x.startswith("ExampleSubscriberDLQ ")]
    assert line.endswith(": 1 message(s)")  # nothing left in flight
    assert _dlq_depth(subscriber, "ExampleSubscriberDLQ") == (1, 0)
    subscriber.wait_for(lambda got: len(got) >= 1, timeout=5)
    assert [e["detail"]["event_id"] for e in subscriber.received] == [alive]


def test_given_a_poison_record_repaired_by_hand_when_replayed_then_created_once_and_dlq_empty(
    own_stack: LocalStack,
) -> None:
    subscriber = Subscriber(own_stack)
    dynamodb = subscriber.client("dynamodb")
    table = own_stack.state["resources"]["UserRegistrationTable"]["physical_id"]
    model_id, _ = _register(own_stack, "Model")
    model = dynamodb.get_item(TableName=table, Key=user_key(model_id))["Item"]
    broken_id = str(uuid.uuid4())
    dynamodb.put_item(
        TableName=table, Item={**user_key(broken_id), "email": {"N": "5"}, "version": {"N": "1"}}
    )
    deadline = time.monotonic() + 20
    while _dlq_depth(subscriber, "UserStreamPoisonQueue")[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _dlq_depth(subscriber, "UserStreamPoisonQueue") == (1, 0)

    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    repaired = {
        **model,
        **user_key(broken_id),
        "id": {"S": broken_id},
        "email": {"S": email},
        "version": {"N": "2"},
    }
    dynamodb.put_item(TableName=table, Item=repaired)
    subscriber.wait_for(lambda got: bool(subscriber.kinds(broken_id)), timeout=20)
    replay = own_stack.run("userflow.cli", "dlq", "replay", "--queue", "UserStreamPoisonQueue")

    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "the item was repaired" in replay.stdout
    assert subscriber.kinds(broken_id) == ["UserCreated"]
    [created] = [e for e in subscriber.received if e["detail"]["user"]["id"] == broken_id]
    assert "previous" not in created["detail"]
    assert _dlq_depth(subscriber, "UserStreamPoisonQueue") == (0, 0)
