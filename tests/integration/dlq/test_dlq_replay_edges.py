"""`dlq replay` and `events tail` where a record could be lost or a resource left behind."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.stream_records import event_of_record
from domain.event_pipeline import without_secrets
from tests.integration.dlq.test_dlq_replay import (
    _depth,
    _events,
    _on_failure_message,
    _replay,
    _send,
    _stream,
    _target_failure,
)
from tests.support.api_clients import UserFactory
from tests.support.moto_patches import patch_client_method, shard_gone
from tests.support.stream_records import created
from userflow.commands.events import tail
from userflow.stack import Stack


def test_given_new_users_and_no_stream_when_replayed_from_the_table_then_every_user_is_published(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user(), make_user()]  # all at version 1
    arn, _, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", records))
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack)

    assert code == 0, output
    assert sorted(e["detail"]["user"]["id"] for e in _events(stack)) == sorted(u.id for u in users)


def test_given_stream_answers_an_empty_page_first_when_replayed_then_no_record_is_skipped(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user()]
    arn, shard, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, shard, records))

    def empty_first(get_records: Any) -> Any:
        """DynamoDB Streams may answer an empty page before the records (it says so)."""
        seen: set[str] = set()

        def call(**kwargs: Any) -> dict[str, Any]:
            if kwargs["ShardIterator"] not in seen:
                seen.add(kwargs["ShardIterator"])
                return {"Records": [], "NextShardIterator": kwargs["ShardIterator"]}
            result: dict[str, Any] = get_records(**kwargs)
            return result

        return call

    patch_client_method(monkeypatch, stack, "dynamodbstreams", "get_records", empty_first)

    code, output = _replay(stack)

    assert code == 0, output
    assert sorted(e["detail"]["user"]["id"] for e in _events(stack)) == sorted(u.id for u in users)
    assert _depth(stack, "UserStreamFailureQueue") == 0


def test_given_batch_range_beyond_what_the_stream_holds_when_replayed_then_it_is_not_called_done(
    stack: Stack, make_user: UserFactory
) -> None:
    user = make_user()
    arn, shard, records = _stream(stack)
    message = _on_failure_message(arn, shard, records)
    last = int(message["DDBStreamBatchInfo"]["endSequenceNumber"])
    message["DDBStreamBatchInfo"]["endSequenceNumber"] = str(last + 1000)
    _send(stack, "UserStreamFailureQueue", message)

    code, output = _replay(stack)

    assert "falling back to the table" in output
    assert code == 0, output
    assert [e["detail"]["user"]["id"] for e in _events(stack)] == [user.id]


def test_given_more_than_ten_undelivered_events_when_replayed_twice_then_each_is_resent_once(
    stack: Stack,
) -> None:
    sent = [_target_failure(stack) for _ in range(23)]

    assert _replay(stack, queue="ExampleSubscriberDLQ")[0] == 0
    assert _replay(stack, queue="ExampleSubscriberDLQ")[0] == 0

    assert len(_events(stack)) == len(sent)
    assert _depth(stack, "ExampleSubscriberDLQ") == 0


def _leftovers(stack: Stack) -> tuple[list[str], list[str]]:
    queues = stack.client("sqs").list_queues().get("QueueUrls", [])
    rules = stack.client("events").list_rules(EventBusName=stack.physical_id("UserEventsBus"))
    return (
        [url for url in queues if "userflow-tail-" in url],
        [rule["Name"] for rule in rules["Rules"] if rule["Name"].startswith("userflow-tail-")],
    )


@pytest.mark.parametrize(
    ("service", "operation"),
    [("sqs", "receive_message"), ("events", "put_targets"), ("events", "put_rule")],
    ids=["while-waiting", "while-subscribing", "right-after-the-rule-was-made"],
)
def test_given_tail_when_interrupted_with_ctrl_c_then_its_queue_and_rule_are_removed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, service: str, operation: str
) -> None:
    def interrupted(original: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            original(**kwargs)  # the request reached AWS; Ctrl-C lands before its answer
            raise KeyboardInterrupt

        return call

    patch_client_method(monkeypatch, stack, service, operation, interrupted)

    code = tail(stack, io.StringIO(), as_json=True, timeout=5)

    assert code == 0
    monkeypatch.undo()
    assert _leftovers(stack) == ([], [])


def _serialise_moto_sqs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moto rebuilds a queue's message list on delete, which is not thread-safe; SQS is."""
    from moto.sqs.models import SQSBackend

    lock = threading.Lock()
    for name in ("receive_message", "delete_message", "change_message_visibility"):
        original = getattr(SQSBackend, name)

        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(SQSBackend, name, locked)


def test_given_two_replays_at_once_when_both_run_then_every_event_arrives_with_its_own_id(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serialise_moto_sqs(monkeypatch)
    sent = [_target_failure(stack) for _ in range(23)]
    codes: list[int] = []
    runs = [
        threading.Thread(
            target=lambda: codes.append(_replay(stack, queue="ExampleSubscriberDLQ")[0])
        )
        for _ in range(2)
    ]

    for run in runs:
        run.start()
    for run in runs:
        run.join(30)

    # SQS may hand one message to both runs (at-least-once): a duplicate keeps its event_id.
    # A run that starts while the other holds messages counts them as left (exit 1); the run
    # that looked first saw none in flight.
    assert sorted(codes)[0] == 0
    received = [e["detail"]["event_id"] for e in _events(stack)]
    assert set(received) == {e["detail"]["event_id"] for e in sent}
    assert _depth(stack, "ExampleSubscriberDLQ") == 0


def test_given_poison_record_that_now_maps_when_replayed_then_its_event_id_is_the_streams(
    stack: Stack,
) -> None:
    record = created("fixed-later")
    from_stream = event_of_record(record)
    assert from_stream is not None
    poison_queue = SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), stack.client("sqs"))
    poison_queue.send(without_secrets(record), "rejected by an older release")

    assert _replay(stack, queue="UserStreamPoisonQueue")[0] == 0

    assert [e["detail"]["event_id"] for e in _events(stack)] == [from_stream.event_id]


def test_given_a_message_replay_cannot_handle_when_dry_run_then_it_is_not_counted_as_redriven(
    stack: Stack,
) -> None:
    _target_failure(stack)
    _send(stack, "ExampleSubscriberDLQ", {"unexpected": "shape"})

    code, output = _replay(stack, dry_run=True, queue="ExampleSubscriberDLQ")

    assert "ExampleSubscriberDLQ: would re-drive 1, 1 left" in output
    assert code == 1
    assert _depth(stack, "ExampleSubscriberDLQ") == 2


def test_given_the_stream_throttles_when_replayed_then_the_batch_is_kept_not_rebuilt(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only records past the stream's retention are gone; a throttled or refused read says
    nothing about them, so the message stays for a later run (no lossy table rebuild)."""
    make_user()
    arn, shard, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, shard, records))

    def throttled(get_shard_iterator: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "LimitExceededException", "Message": "Rate exceeded"}},
                "GetShardIterator",
            )

        return call

    patch_client_method(monkeypatch, stack, "dynamodbstreams", "get_shard_iterator", throttled)

    code, output = _replay(stack)

    assert code == 1
    assert "LimitExceededException" in output
    assert "falling back to the table" not in output
    assert _events(stack) == []
    assert _depth(stack, "UserStreamFailureQueue") == 1


def _mail_batch_in_its_dlq(stack: Stack) -> None:
    """The table stream's records as a batch the mailer's retries gave up on."""
    arn, shard, records = _stream(stack)
    message = _on_failure_message(arn, shard, records)
    mailer = stack.physical_id("MailerFunction")
    message["requestContext"]["functionArn"] = f"arn:aws:lambda:us-east-1:1:function:{mailer}"
    _send(stack, "MailDeadLetterQueue", message)


def test_given_ses_refuses_one_mail_of_a_batch_when_replayed_twice_then_each_is_sent_once(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user(), make_user()]  # each registration queues a verification
    _mail_batch_in_its_dlq(stack)
    sent: list[str] = []
    refused = {users[1].email}

    def flaky(send_email: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            to = kwargs["Destination"]["ToAddresses"][0]
            if to in refused:
                raise ClientError(
                    {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}},
                    "SendEmail",
                )
            sent.append(to)
            return send_email(**kwargs)

        return call

    patch_client_method(monkeypatch, stack, "sesv2", "send_email", flaky)

    first_code, first = _replay(stack, queue="MailDeadLetterQueue")
    refused.clear()
    second_code, second = _replay(stack, queue="MailDeadLetterQueue")

    assert (first_code, second_code) == (1, 0), first + second
    assert sorted(sent) == sorted(user.email for user in users)
    assert _depth(stack, "MailDeadLetterQueue") == 0


def test_given_a_zero_timeout_when_tailing_then_it_returns_at_once(stack: Stack) -> None:
    started = time.monotonic()

    code = tail(stack, io.StringIO(), as_json=True, timeout=0)

    assert code == 0
    assert time.monotonic() - started < 5


def test_given_a_user_unreadable_once_when_a_mail_batch_is_replayed_twice_then_none_sent_twice(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [make_user(), make_user(), make_user()]
    _mail_batch_in_its_dlq(stack)
    sent: list[str] = []
    unreadable = {f"USER#{users[1].id}"}

    def recording(send_email: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            sent.append(kwargs["Destination"]["ToAddresses"][0])
            return send_email(**kwargs)

        return call

    def flaky(get_item: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            key = kwargs["Key"]["PK"]["S"]
            if key in unreadable:
                unreadable.discard(key)
                raise ClientError(
                    {"Error": {"Code": "InternalServerError", "Message": "try again"}}, "GetItem"
                )
            return get_item(**kwargs)

        return call

    patch_client_method(monkeypatch, stack, "sesv2", "send_email", recording)
    patch_client_method(monkeypatch, stack, "dynamodb", "get_item", flaky)

    first_code, first = _replay(stack, queue="MailDeadLetterQueue")
    second_code, second = _replay(stack, queue="MailDeadLetterQueue")

    assert (first_code, second_code) == (1, 0), first + second
    assert sorted(sent) == sorted(user.email for user in users)
