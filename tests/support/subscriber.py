"""A downstream service on a running `userflow local`: its own queue and rule on the bus, the
README's rule for folding what it received, and a user registered and logged in to make events.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3

from tests.support.local_stack import LocalStack
from userflow.event_subscription import queue_policy_for_rule


def fold(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The README's rule, verbatim: drop an event_id already applied; per user keep the event
    with the greatest ``user.version``; the user exists unless that event is UserDeleted."""
    applied: set[str] = set()
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        detail = event["detail"]
        if detail["event_id"] in applied:
            continue
        applied.add(detail["event_id"])
        user = detail["user"]
        kept = latest.get(user["id"])
        if kept is None or user["version"] > kept["detail"]["user"]["version"]:
            latest[user["id"]] = event
    return {
        user_id: event["detail"]["user"]
        for user_id, event in latest.items()
        if event["detail-type"] != "UserDeleted"
    }


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


def register_and_login(stack: LocalStack, name: str) -> tuple[str, dict[str, str]]:
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    created = stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": name}
    )
    assert created.status == 201, created.body
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return created.json()["id"], {"Authorization": f"Bearer {login.json()['access_token']}"}
