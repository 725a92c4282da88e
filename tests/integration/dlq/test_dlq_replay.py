"""`userflow dlq list|replay` and `userflow events tail` against the template's stack in moto."""

from __future__ import annotations

import io
import json
import threading
from typing import TYPE_CHECKING

import pytest

from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.stream_records import event_of_record
from samlocal.stream_mapping.lambda_record import as_lambda_record
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
from tests.support.stream_records import assert_published_event_is_valid, created, poison
from userflow.commands.dlq import list_dead_letters
from userflow.commands.events import tail
from userflow.stack import Stack

if TYPE_CHECKING:
    pass


def test_given_stream_batch_in_failure_queue_when_replayed_then_records_are_reread_and_published(
    stack: Stack, make_user: UserFactory
) -> None:
    users = [make_user(), make_user()]
    arn, shard, records = table_stream(stack)
    enqueue(stack, "UserStreamFailureQueue", on_failure_message(arn, shard, records))
    expected_ids = {
        event.event_id
        for record in records
        if (event := event_of_record(as_lambda_record(record, arn))) is not None
    }

    code, output = run_replay(stack)

    assert code == 0
    assert "re-read" in output
    events = arrived(stack)
    assert {e["detail"]["user"]["id"] for e in events} == {u.id for u in users}
    assert {e["detail"]["event_id"] for e in events} == expected_ids
    for published in events:
        assert_published_event_is_valid(published)
    assert queue_depth(stack, "UserStreamFailureQueue") == 0


def test_given_replay_already_ran_when_run_again_then_nothing_more_is_published(
    stack: Stack, make_user: UserFactory
) -> None:
    make_user()
    arn, shard, records = table_stream(stack)
    enqueue(stack, "UserStreamFailureQueue", on_failure_message(arn, shard, records))
    run_replay(stack)
    arrived(stack)

    code, _ = run_replay(stack)

    assert code == 0
    assert arrived(stack) == []


def test_given_stream_no_longer_has_the_records_when_replayed_then_table_items_are_used(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    arn, _, records = table_stream(stack)
    enqueue(stack, "UserStreamFailureQueue", on_failure_message(arn, "shardId-gone", records))
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = run_replay(stack)

    assert code == 0
    assert "falling back to the table" in output
    assert "deletions in that window cannot be recovered" in output
    [event] = arrived(stack)
    assert event["detail"]["user"]["id"] == user.id
    assert event["detail-type"] == "UserCreated"


def test_given_a_record_that_is_still_poison_when_replayed_then_its_message_stays(
    stack: Stack,
) -> None:
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        poison(), "NewImage is not a valid user"
    )

    code, output = run_replay(stack, queue="UserStreamPoisonQueue")

    assert code == 1
    assert "NewImage is not a valid user" in output
    assert queue_depth(stack, "UserStreamPoisonQueue") == 1
    assert arrived(stack) == []


def test_given_a_poison_record_that_now_maps_when_replayed_then_published_and_removed(
    stack: Stack,
) -> None:
    record = created("fixed-user")
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        record, "was rejected by an older release"
    )

    code, _ = run_replay(stack)

    assert code == 0
    assert [e["detail"]["user"]["id"] for e in arrived(stack)] == ["fixed-user"]
    assert queue_depth(stack, "UserStreamPoisonQueue") == 0


def test_given_undelivered_event_when_replayed_then_resent_to_its_target_once(
    stack: Stack,
) -> None:
    event = target_failure(stack)

    assert run_replay(stack)[0] == 0
    assert run_replay(stack)[0] == 0

    assert arrived(stack) == [event]
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 0


def test_given_dry_run_when_replayed_then_nothing_moves(stack: Stack) -> None:
    target_failure(stack)

    code, output = run_replay(stack, dry_run=True)

    assert code == 0
    assert "would re-send" in output
    assert arrived(stack) == []
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 1


def test_given_messages_in_dlqs_when_listed_then_every_dlq_shows_depth_and_summaries(
    stack: Stack,
) -> None:
    target_failure(stack)
    SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs")).send(
        poison(sequence_number="777"), "NewImage is not a valid user (email: bad)"
    )
    out = io.StringIO()

    list_dead_letters(stack, out)

    text = out.getvalue()
    assert "UserStreamFailureQueue" in text
    assert "UserStreamPoisonQueue" in text
    assert "poison INSERT of user broken (sequence 777): NewImage is not a valid user" in text
    assert "UserCreated event_id" in text
    assert "SQS.AccessDenied" in text
    assert queue_depth(stack, "ExampleSubscriberDLQ") == 1  # listing leaves messages in place


def test_given_tail_running_when_an_event_is_published_then_it_prints_the_whole_event(
    stack: Stack,
) -> None:
    out = io.StringIO()
    ready = threading.Event()
    tailing = threading.Thread(
        target=tail,
        args=(stack, out),
        kwargs={"as_json": True, "count": 1, "timeout": 10, "ready": ready},
    )
    tailing.start()
    assert ready.wait(5)
    event = event_of_record(created("tailed"))
    assert event is not None
    stack.client("events").put_events(
        Entries=[
            {
                "Source": "userflow.users",
                "DetailType": "UserCreated",
                "Detail": event.detail_json(),
                "EventBusName": stack.physical_id("UserEventsBus"),
            }
        ]
    )
    tailing.join(15)

    [line] = out.getvalue().splitlines()
    printed = json.loads(line)
    assert printed["detail"]["user"]["id"] == "tailed"
    assert printed["detail-type"] == "UserCreated"
    queues = stack.client("sqs").list_queues().get("QueueUrls", [])
    assert not [url for url in queues if "userflow-tail-" in url]
