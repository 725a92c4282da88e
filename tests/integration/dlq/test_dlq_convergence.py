"""`userflow dlq replay` converges: retries, durable progress, each message on its own, limits."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventsBackend

from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.user_items import user_key
from tests.support.api_clients import UserFactory
from tests.support.dead_letters import (
    arrived,
    enqueue,
    on_failure_message,
    queue_depth,
    run_replay,
    table_stream,
    target_failure,
)
from tests.support.moto_patches import shard_gone
from userflow.commands.dlq import replay
from userflow.dlq.discovery import DEAD_LETTER_TAG, dead_letter_queues
from userflow.dlq.replay import Limits
from userflow.errors import CommandError
from userflow.stack import Stack


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("userflow.dlq.republish.random.uniform", lambda a, b: 0.0)


def _failing_entries(
    monkeypatch: pytest.MonkeyPatch, user_ids: set[str], calls: int | None = None
) -> Callable[[], None]:
    """EventBridge (moto) fails the entries of these users with InternalFailure, for ``calls``
    PutEvents calls or until the returned function heals it."""
    state = {"left": calls, "healed": False}
    original = EventsBackend.put_events

    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        active = not state["healed"] and (state["left"] is None or state["left"] > 0)
        if state["left"] is not None:
            state["left"] -= 1
        doomed = [active and json.loads(e["Detail"])["user"]["id"] in user_ids for e in events]
        passed = iter(original(self, [e for e, d in zip(events, doomed, strict=True) if not d]))
        failure = {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
        return [failure if d else next(passed) for d in doomed]

    monkeypatch.setattr(EventsBackend, "put_events", put_events)
    return lambda: state.update(healed=True)


def _stream_batch(stack: Stack) -> None:
    """The table stream's records, as a failed batch in the stream failure queue."""
    arn, shard, records = table_stream(stack)
    enqueue(stack, "UserStreamFailureQueue", on_failure_message(arn, shard, records))


def test_given_internal_failures_that_pass_when_replayed_then_retried_and_all_published(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user()]
    _stream_batch(stack)
    _failing_entries(monkeypatch, {users[1].id}, calls=2)

    code, output = run_replay(stack)

    assert code == 0, output
    assert sorted(e["detail"]["user"]["id"] for e in arrived(stack)) == sorted(u.id for u in users)
    assert queue_depth(stack, "UserStreamFailureQueue") == 0


def test_given_part_left_when_the_stream_then_loses_the_batch_then_only_its_users_come_back(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrowed message names its users too: when the stream no longer holds the records, the
    table fallback re-publishes those users, not everyone changed in the batch's window."""
    users = [make_user(), make_user(), make_user()]
    arn, shard, records = table_stream(stack)
    message = on_failure_message(arn, shard, records)
    early = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    message["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] = early
    enqueue(stack, "UserStreamFailureQueue", message)
    heal = _failing_entries(monkeypatch, {users[1].id})
    assert run_replay(stack)[0] == 1
    assert {e["detail"]["user"]["id"] for e in arrived(stack)} == {
        users[0].id,
        users[2].id,
    }
    heal()
    shard_gone(monkeypatch, stack, shard)

    code, output = run_replay(stack)

    assert code == 0, output
    assert "falling back to the table: 1 user(s)" in output
    republished = arrived(stack)
    assert [e["detail"]["user"]["id"] for e in republished] == [users[1].id]
    assert republished[0]["detail"]["reconstructed"] is True
    assert queue_depth(stack, "UserStreamFailureQueue") == 0


def test_given_a_record_that_keeps_failing_when_replayed_then_named_and_only_it_is_left(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user(), make_user()]
    _stream_batch(stack)
    heal = _failing_entries(monkeypatch, {users[1].id})

    code, output = run_replay(stack)

    assert code == 1
    assert f"user {users[1].id}" in output
    assert "InternalFailure" in output
    assert {e["detail"]["user"]["id"] for e in arrived(stack)} == {
        users[0].id,
        users[2].id,
    }
    assert queue_depth(stack, "UserStreamFailureQueue") == 1

    heal()
    code, output = run_replay(stack)

    assert code == 0, output
    assert [e["detail"]["user"]["id"] for e in arrived(stack)] == [users[1].id]
    assert queue_depth(stack, "UserStreamFailureQueue") == 0


def test_given_a_target_that_is_gone_when_replayed_then_others_redriven_and_it_is_back_at_once(
    stack: Stack,
) -> None:
    sqs = stack.client("sqs")
    gone = sqs.create_queue(QueueName="deleted-subscriber")["QueueUrl"]
    enqueue(
        stack,
        "ExampleSubscriberDLQ",
        {"detail-type": "UserCreated", "detail": {"event_id": "e-1", "user": {"id": "u-9"}}},
        {
            "TARGET_ARN": "arn:aws:sqs:us-east-1:123456789012:deleted-subscriber",
            "ERROR_CODE": "SQS.QueueDoesNotExist",
        },
    )
    sqs.delete_queue(QueueUrl=gone)
    event = target_failure(stack)

    predicted, prediction = run_replay(stack, dry_run=True)
    code, output = run_replay(stack)

    assert (predicted, code) == (1, 1)
    assert "would re-drive 1, 1 left" in prediction
    assert "re-drove 1, 1 left" in output
    assert "deleted-subscriber cannot be reached" in output
    assert arrived(stack) == [event]
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.physical_id("ExampleSubscriberDLQ"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_given_a_message_held_by_another_consumer_when_replayed_then_counted_as_left(
    stack: Stack,
) -> None:
    target_failure(stack)
    stack.client("sqs").receive_message(
        QueueUrl=stack.physical_id("ExampleSubscriberDLQ"), VisibilityTimeout=300
    )

    code, output = run_replay(stack, queue="ExampleSubscriberDLQ")

    assert code == 1
    assert "re-drove 0, 1 left (1 in flight" in output


def _broken_user(stack: Stack, user_id: str) -> dict[str, Any]:
    """What a bad manual write or a bug leaves: a user item that is not a valid user."""
    item = {**user_key(user_id), "email": {"N": "5"}, "version": {"N": "1"}}
    stack.client("dynamodb").put_item(
        TableName=stack.physical_id("UserRegistrationTable"), Item=item
    )
    return item


def _poison_message(stack: Stack, user_id: str, item: dict[str, Any]) -> None:
    record = {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": user_key(user_id), "NewImage": item, "SequenceNumber": "4242"},
    }
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        record, "NewImage is not a valid user"
    )


def test_given_a_poison_record_whose_item_was_repaired_by_hand_when_replayed_then_dropped(
    stack: Stack, make_user: UserFactory
) -> None:
    table = stack.physical_id("UserRegistrationTable")
    dynamodb = stack.client("dynamodb")
    # A valid item to copy the repair from.
    template = dynamodb.get_item(TableName=table, Key=user_key(make_user().id))["Item"]
    _poison_message(stack, "repaired", _broken_user(stack, "repaired"))
    repaired = {**template, **user_key("repaired"), "id": {"S": "repaired"}, "version": {"N": "2"}}
    dynamodb.put_item(TableName=table, Item=repaired)

    code, output = run_replay(stack, queue="UserStreamPoisonQueue")

    assert code == 0, output
    assert "the item was repaired" in output
    assert queue_depth(stack, "UserStreamPoisonQueue") == 0
    assert arrived(stack) == []


def test_given_a_poison_record_whose_item_maps_at_the_same_version_when_replayed_then_published(
    stack: Stack, make_user: UserFactory
) -> None:
    """Either the mapping was fixed, or a repair kept the version: the item as it is now is
    published (a repeat is harmless under the version rule, a loss is not)."""
    table = stack.physical_id("UserRegistrationTable")
    dynamodb = stack.client("dynamodb")
    template = dynamodb.get_item(TableName=table, Key=user_key(make_user().id))["Item"]
    _poison_message(stack, "same", _broken_user(stack, "same"))
    dynamodb.put_item(TableName=table, Item={**template, **user_key("same"), "id": {"S": "same"}})

    code, output = run_replay(stack, queue="UserStreamPoisonQueue")

    assert code == 0, output
    assert [(e["detail"]["user"]["id"], e["detail"]["reconstructed"]) for e in arrived(stack)] == [
        ("same", True)
    ]
    assert queue_depth(stack, "UserStreamPoisonQueue") == 0


def test_given_a_poison_record_whose_item_is_still_broken_when_replayed_then_it_stays(
    stack: Stack,
) -> None:
    _poison_message(stack, "still-broken", _broken_user(stack, "still-broken"))

    code, output = run_replay(stack, queue="UserStreamPoisonQueue")

    assert code == 1
    assert "user still-broken: still poison" in output
    assert "the item is still invalid" in output
    assert queue_depth(stack, "UserStreamPoisonQueue") == 1


def test_given_more_messages_than_the_limit_when_replayed_then_only_that_many_are_redriven(
    stack: Stack,
) -> None:
    for _ in range(3):
        target_failure(stack)
    out = io.StringIO()

    code = replay(stack, False, None, out, wait_seconds=0, limits=Limits(limit=2))

    assert code == 1  # one message is still in a DLQ
    assert len(arrived(stack)) == 2
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 1
    assert "ExampleSubscriberDLQ: re-drove 2, 1 left (1 not considered" in out.getvalue()
    assert "summary: re-drove 2, 1 left (1 not considered (--limit/--since))" in out.getvalue()


def test_given_a_dry_run_with_a_limit_when_replayed_then_the_rest_counts_as_left(
    stack: Stack,
) -> None:
    for _ in range(3):
        target_failure(stack)
    out = io.StringIO()

    code = replay(stack, True, None, out, wait_seconds=0, limits=Limits(limit=1))

    assert code == 1
    assert "ExampleSubscriberDLQ: would re-drive 1, 2 left (2 not considered" in out.getvalue()
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 3


def test_given_since_after_every_message_when_replayed_then_none_is_touched(stack: Stack) -> None:
    target_failure(stack)
    out = io.StringIO()
    since = datetime.now(UTC) + timedelta(minutes=5)

    code = replay(stack, False, None, out, wait_seconds=0, limits=Limits(since=since))

    assert code == 1  # the message is still there
    assert arrived(stack) == []
    assert "re-drove 0, 1 left (1 not considered" in out.getvalue()
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 1


def test_given_an_unknown_queue_name_when_replayed_then_exit_2_and_the_valid_names_listed(
    stack: Stack,
) -> None:
    with pytest.raises(CommandError) as refused:
        replay(stack, False, "NoSuchQueue", io.StringIO(), wait_seconds=0)

    assert refused.value.exit_code == 2
    assert "no dead-letter queue named 'NoSuchQueue'" in str(refused.value)
    for logical_id in ("ExampleSubscriberDLQ", "UserStreamFailureQueue", "UserStreamPoisonQueue"):
        assert logical_id in str(refused.value)


def test_given_a_stack_queue_tagged_as_dead_letter_when_discovered_then_found_by_its_tag(
    stack: Stack,
) -> None:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="added-later", tags={DEAD_LETTER_TAG: "Added by hand"})[
        "QueueUrl"
    ]
    plain = sqs.create_queue(QueueName="not-a-dlq")["QueueUrl"]
    stack.resources["AddedLaterDLQ"] = {"physical_id": url, "type": "AWS::SQS::Queue"}
    stack.resources["PlainQueue"] = {"physical_id": plain, "type": "AWS::SQS::Queue"}

    found = {q.logical_id: q.purpose for q in dead_letter_queues(stack, sqs)}

    assert found["AddedLaterDLQ"] == "Added by hand"
    assert "PlainQueue" not in found
    assert "ExampleSubscriberQueue" not in found
    assert {"UserStreamFailureQueue", "UserStreamPoisonQueue", "ExampleSubscriberDLQ"} <= set(found)


def test_given_the_stream_no_longer_holds_a_batch_when_replayed_twice_then_same_reconstructed_ids(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    arn, _, records = table_stream(stack)
    shard_gone(monkeypatch, stack, "shardId-gone")
    message = on_failure_message(arn, "shardId-gone", records)
    # The batch's window surely holds the registration, however slow this machine is.
    early = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    message["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] = early
    enqueue(stack, "UserStreamFailureQueue", message)
    assert run_replay(stack)[0] == 0
    enqueue(stack, "UserStreamFailureQueue", message)
    assert run_replay(stack)[0] == 0

    first, second = arrived(stack)
    assert first["detail"]["user"]["id"] == user.id
    assert first["detail"]["reconstructed"] is True
    assert first["detail"]["event_id"] == second["detail"]["event_id"]


def _visible(stack: Stack, logical_id: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical_id(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_given_a_replay_stopped_midway_when_it_ends_then_summary_printed_and_messages_given_back(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, as_json: bool
) -> None:
    """Ctrl-C, SIGTERM and SIGHUP all arrive as a KeyboardInterrupt where the replay is."""
    from userflow.dlq.redrive import Redriver

    for _ in range(3):
        target_failure(stack)
    original = Redriver.redrive
    calls = []

    def stopped_on_the_second(self: Redriver, letter: Any, *queue: Any) -> Any:
        calls.append(letter)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, letter, *queue)

    monkeypatch.setattr(Redriver, "redrive", stopped_on_the_second)
    out = io.StringIO()

    with pytest.raises(KeyboardInterrupt):
        replay(stack, False, "ExampleSubscriberDLQ", out, wait_seconds=0, as_json=as_json)

    if as_json:
        summary = json.loads(out.getvalue())
        assert (summary["redriven"], summary["left"], summary["interrupted"]) == (1, 2, True)
    else:
        assert "summary: stopped; re-drove 1, 2 left" in out.getvalue()
    assert len(arrived(stack)) == 1
    assert _visible(stack, "ExampleSubscriberDLQ") == 2  # given back at once, for the next run


def test_given_an_operator_at_a_terminal_when_dropping_then_asked_and_the_body_saved_first(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from userflow.commands.dlq_message import drop

    enqueue(stack, "UserStreamPoisonQueue", {"kind": "userflow.poison-record", "record": "junk"})
    [message] = stack.client("sqs").receive_message(
        QueueUrl=stack.physical_id("UserStreamPoisonQueue"), VisibilityTimeout=0
    )["Messages"]
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "yes"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    saved, taken = tmp_path / "dropped.json", tmp_path / "taken.json"
    taken.write_text("{}")
    queue, message_id = "UserStreamPoisonQueue", message["MessageId"]

    declined = drop(stack, queue, message_id, io.StringIO(), save_to=saved)
    with pytest.raises(CommandError) as exists:
        drop(stack, queue, message_id, io.StringIO(), save_to=taken)
    dropped = drop(stack, queue, message_id, io.StringIO(), save_to=saved)

    assert declined == 1
    assert exists.value.exit_code == 2
    assert dropped == 0
    assert json.loads(saved.read_text())["message_id"] == message_id
    assert json.loads(json.loads(saved.read_text())["body"])["record"] == "junk"
    assert taken.read_text() == "{}"
    assert queue_depth(stack, "UserStreamPoisonQueue") == 0
