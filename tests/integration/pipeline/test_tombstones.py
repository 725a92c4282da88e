"""A deleted user's tombstone: what UserDeleted carried and who deleted the user, nothing more,
kept for the retention; a replay from the table publishes the deletion again under its id, and
the security events stamped in the lost window too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.stream_records import event_of_record
from adapters.tombstones import tombstone_key
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.integration.dlq.test_dlq_replay import (
    _depth,
    _events,
    _on_failure_message,
    _replay,
    _send,
    _stream,
)
from tests.integration.pipeline.test_stream_processor import Pipeline, pipeline  # noqa: F401
from tests.support.api_clients import ApiClient, UserFactory
from tests.support.moto_patches import shard_gone
from userflow.stack import Stack


def _removal(stack: Stack) -> Any:
    arn, _, records = _stream(stack)
    [removal] = [
        r
        for r in records
        if r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["SK"]["S"] == "PROFILE"
    ]
    return arn, removal


def _every_event(stack: Stack) -> Callable[[], list[dict[str, Any]]]:
    """A subscriber of every detail-type (the example subscriber takes lifecycle events only)."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="every-event")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = stack.physical_id("UserEventsBus")
    events.put_rule(
        Name="every-event",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["userflow.users"]}),
    )
    events.put_targets(
        Rule="every-event", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    def drain() -> list[dict[str, Any]]:
        got = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            got += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    return drain


def test_given_a_deletion_then_its_tombstone_holds_what_user_deleted_says_and_expires(
    api: ApiClient, stack: Stack, make_user: UserFactory
) -> None:
    admin, user = make_user(admin=True), make_user()

    assert api.request("DELETE", f"/users/{user.id}", caller=admin.caller).status == 204

    found = stack.client("dynamodb").get_item(
        TableName=stack.physical_id("UserRegistrationTable"), Key=tombstone_key(user.id)
    )
    tombstone = found["Item"]
    arn, removal = _removal(stack)
    deleted = event_of_record(as_lambda_record(removal, arn))
    assert deleted is not None
    assert tombstone["version"] == {"N": str(deleted.detail.user.version)}
    assert tombstone["last_actor"] == {"M": {"type": {"S": "admin"}, "id": {"S": admin.id}}}
    kept = set(tombstone) - {"PK", "SK", "entity", "last_actor", "expires_at"}
    assert kept == set(deleted.detail.user.model_dump())  # the public fields, nothing else
    expires = datetime.fromtimestamp(int(tombstone["expires_at"]["N"]), UTC)
    assert timedelta(days=34) < expires - datetime.now(UTC) <= timedelta(days=35)


def test_given_a_lost_deletion_when_the_table_stands_in_then_user_deleted_again_with_its_id(
    api: ApiClient, stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    api.request("DELETE", "/users/me", json={"current_password": user.password}, caller=user.caller)
    arn, removal = _removal(stack)
    original = event_of_record(as_lambda_record(removal, arn))
    assert original is not None
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", [removal]))
    _events(stack)
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack, queue="UserStreamFailureQueue")

    mine = [e for e in _events(stack) if e["detail"]["user"]["id"] == user.id]
    assert code == 0, output
    assert [(e["detail-type"], e["detail"]["event_id"]) for e in mine] == [
        ("UserDeleted", original.event_id)
    ]
    assert mine[0]["detail"]["reconstructed"] is True
    assert mine[0]["detail"]["actor"] == {"type": "user", "id": user.id}
    assert _depth(stack, "UserStreamFailureQueue") == 0


def test_given_a_lost_password_change_when_the_table_stands_in_then_its_security_events_again(
    api: ApiClient, stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    every_event = _every_event(stack)
    change = {"password": "a brand new horse staple 77", "current_password": user.password}
    assert api.request("PATCH", "/users/me", json=change, caller=user.caller).status == 200
    arn, _, records = _stream(stack)
    lost = records[-1]
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", [lost]))
    every_event()
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack, queue="UserStreamFailureQueue")

    mine = [e for e in every_event() if e["detail"]["user"]["id"] == user.id]
    assert code == 0, output
    assert [e["detail-type"] for e in mine] == ["UserUpdated", "PasswordChanged", "SessionsRevoked"]
    assert mine[1]["detail"]["reason"] == "change"
    assert all(e["detail"]["reconstructed"] for e in mine)
