"""One broken subscriber stops no one (local EventBridge delivers like AWS): with the example
subscriber's queue deleted, or its policy refusing EventBridge, publishing goes on, a healthy
subscriber gets every change, and the example subscriber's DLQ gets the failed deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import LocalStack, start_local_stack
from userflow.event_subscription import subscription
from userflow.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
Change = tuple[str, str]


def _changes(stack: LocalStack, tag: str) -> set[Change]:
    """Registers three users, renames each and deletes one; the (user id, detail-type) expected."""
    expected: set[Change] = set()
    for number in range(3):
        email = f"delivery-{tag}-{number}@example.com"
        created = stack.request(
            "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "A"}
        )
        assert created.status == 201, created.body
        user_id = created.json()["id"]
        login = stack.request(
            "POST", "/auth/login", json_body={"email": email, "password": PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        renamed = stack.request(
            "PATCH", f"/users/{user_id}", json_body={"name": "B"}, headers=bearer
        )
        assert renamed.status == 200, renamed.body
        expected |= {(user_id, "UserCreated"), (user_id, "UserUpdated")}
        if number == 1:
            assert stack.request("DELETE", f"/users/{user_id}", headers=bearer).status == 204
            expected.add((user_id, "UserDeleted"))
    return expected


def _drain(
    sqs: Any, url: str, until: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Messages (attributes included) received from ``url`` until ``until`` holds (30 s at most)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not until(received):
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in page.get("Messages", []):
            received.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def _change(message: dict[str, Any]) -> Change:
    event = json.loads(message["Body"])
    return event["detail"]["user"]["id"], event["detail-type"]


def _covers(expected: set[Change]) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda messages: expected <= {_change(m) for m in messages}


def _break_and_check(
    tmp_path: Path, break_subscriber: Callable[[Any, str], None], code: str
) -> None:
    with start_local_stack(tmp_path) as local:
        stack = Stack(
            name=local.state["stack_name"],
            region=local.state["region"],
            endpoint_url=local.endpoint_url,
            resources=local.state["resources"],
            local=True,
        )
        sqs = stack.client("sqs")
        with subscription(stack, purpose="healthy") as healthy:
            break_subscriber(sqs, stack.physical_id("ExampleSubscriberQueue"))
            expected = _changes(local, tmp_path.name[-10:])

            received = _drain(sqs, healthy, until=_covers(expected))
            dead = _drain(sqs, stack.physical_id("ExampleSubscriberDLQ"), until=_covers(expected))

        assert expected <= {_change(m) for m in received}
        assert {_change(m) for m in dead} == expected
        rule_arn = stack.resources["ExampleSubscriberRule"]["arn"]
        queue_arn = stack.resources["ExampleSubscriberQueue"]["arn"]
        for message in dead:
            attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
            assert attributes["RULE_ARN"] == rule_arn
            assert attributes["TARGET_ARN"] == queue_arn
            assert attributes["ERROR_CODE"] == code
            assert attributes["ERROR_MESSAGE"]
        failures = sqs.get_queue_attributes(
            QueueUrl=stack.physical_id("UserStreamFailureQueue"),
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        assert failures["ApproximateNumberOfMessages"] == "0"


def test_given_a_deleted_subscriber_queue_when_users_change_then_others_get_all_its_dlq_the_rest(
    tmp_path: Path,
) -> None:
    _break_and_check(tmp_path, lambda sqs, url: sqs.delete_queue(QueueUrl=url), "NO_RESOURCE")


def test_given_a_queue_policy_denying_eventbridge_when_users_change_then_its_dlq_gets_the_changes(
    tmp_path: Path,
) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": "*",
            }
        ],
    }

    def refuse(sqs: Any, url: str) -> None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny)})

    _break_and_check(tmp_path, refuse, "NO_PERMISSIONS")
