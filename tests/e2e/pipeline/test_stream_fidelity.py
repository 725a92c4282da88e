"""The local stream carries exactly the committed changes: refused writes (409, 412, a taken email)
publish nothing, and every successful change after them is still published."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
QUIET_PERIOD_S = 2.0
"""How long the subscriber queue must stay silent before the published events are counted."""


class Subscriber:
    """The example subscriber queue, drained as a downstream service would."""

    def __init__(self, stack: LocalStack) -> None:
        self.sqs = boto3.client(
            "sqs", endpoint_url=stack.endpoint_url, region_name=stack.state["region"]
        )
        self.url = stack.state["resources"]["ExampleSubscriberQueue"]["physical_id"]
        self.events: list[dict[str, Any]] = []

    def changes(self, until: Counter[tuple[str, str]], timeout: float = 30) -> Counter[Any]:
        """(user id, detail-type) of every event received, once ``until`` arrived and then
        nothing more came for a quiet period."""
        deadline, quiet_since = time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            messages = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                self.events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if messages:
                quiet_since = time.monotonic()
            received = Counter((e["detail"]["user"]["id"], e["detail-type"]) for e in self.events)
            if until <= received and time.monotonic() - quiet_since > QUIET_PERIOD_S:
                break
        return Counter((e["detail"]["user"]["id"], e["detail-type"]) for e in self.events)


def _register(stack: LocalStack, email: str) -> Any:
    return stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "N"}
    )


def _bearer(stack: LocalStack, email: str) -> dict[str, str]:
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_given_refused_writes_between_successful_ones_then_only_successful_changes_are_published(
    tmp_path: Path,
) -> None:
    with start_local_stack(tmp_path) as stack:
        subscriber = Subscriber(stack)
        # The scenario: register a, register a again (409), register b.
        a = _register(stack, "a@example.com")
        assert a.status == 201, a.body
        assert _register(stack, "a@example.com").status == 409
        b = _register(stack, "b@example.com")
        assert b.status == 201, b.body
        a_id, b_id = a.json()["id"], b.json()["id"]
        expected = Counter({(a_id, "UserCreated"): 1, (b_id, "UserCreated"): 1})
        assert subscriber.changes(until=expected) == expected

        # Every later change, with refusals in between.
        as_a = _bearer(stack, "a@example.com")
        stale = {**as_a, "If-Match": '"7"'}
        path_a = f"/users/{a_id}"
        assert stack.request("PATCH", path_a, json_body={"name": "X"}, headers=stale).status == 412
        taken = {"email": "b@example.com", "current_password": PASSWORD}
        assert stack.request("PATCH", path_a, json_body=taken, headers=as_a).status == 409
        assert _register(stack, "b@example.com").status == 409
        renamed = stack.request("PATCH", path_a, json_body={"name": "Ann"}, headers=as_a)
        assert renamed.status == 200, renamed.body
        moved = stack.request(
            "PATCH",
            path_a,
            json_body={"email": "c@example.com", "current_password": PASSWORD},
            headers=as_a,
        )
        assert moved.status == 200, moved.body
        assert stack.request("PATCH", path_a, json_body=taken, headers=as_a).status == 409
        c = _register(stack, "a@example.com")  # a's old address is free again
        assert c.status == 201, c.body
        as_b = _bearer(stack, "b@example.com")
        assert stack.request("DELETE", f"/users/{b_id}", headers=as_b).status == 204
        assert stack.request("DELETE", f"/users/{b_id}", headers=as_b).status in (401, 404)

        expected = Counter(
            {
                (a_id, "UserCreated"): 1,
                (b_id, "UserCreated"): 1,
                (a_id, "UserUpdated"): 2,
                (c.json()["id"], "UserCreated"): 1,
                (b_id, "UserDeleted"): 1,
            }
        )
        assert subscriber.changes(until=expected) == expected
        versions = [
            e["detail"]["user"]["version"]
            for e in subscriber.events
            if e["detail"]["user"]["id"] == a_id
        ]
        assert versions == [1, 2, 3]
