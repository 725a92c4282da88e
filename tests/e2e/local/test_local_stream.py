"""The local stream pipeline: a table write reaches the example subscriber queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e


def _subscriber_events(stack: LocalStack, user_id: str, timeout: float) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=stack.endpoint_url, region_name=stack.state["region"])
    queue_url = stack.state["resources"]["ExampleSubscriberQueue"]["physical_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        events = [json.loads(message["Body"]) for message in messages]
        mine = [e for e in events if e.get("detail", {}).get("user", {}).get("id") == user_id]
        if mine:
            return mine
    return []


def test_given_a_running_stack_when_a_user_registers_then_usercreated_reaches_the_subscriber(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    registration = {"email": unique_email(), "password": "correct horse battery", "name": "S"}
    created = local_stack.request("POST", "/users", json_body=registration)
    assert created.status == 201

    events = _subscriber_events(local_stack, created.json()["id"], timeout=10)

    assert [event["detail-type"] for event in events] == ["UserCreated"]
    assert events[0]["source"] == "userflow.users"
