"""The stream processor handler against moto: bus + example subscriber rule -> SQS, read back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import adapters.aws_clients
from handlers import handle_user_stream
from samlocal.functions.in_process import Invoker
from samlocal.template import load_template
from tests.support.stream_records import assert_published_event_is_valid, created, poison
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
FUNCTION = "UserStreamProcessorFunction"
PutEvents = Callable[..., Mapping[str, Any]]


class Pipeline:
    """The processor as Lambda runs it, plus what reached the subscriber and the poison queue."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.invoker = Invoker(load_template(TEMPLATE), stack)
        self.sqs = stack.client("sqs")
        self.put_events_calls: list[int] = []

    def run(self, records: list[dict[str, Any]]) -> list[str]:
        """Invoke the handler with one batch; the sequence numbers it reports as failed."""
        function = self.invoker.function(FUNCTION)
        response = handle_user_stream.handler({"Records": records}, self.invoker.context(function))
        return [item["itemIdentifier"] for item in response["batchItemFailures"]]

    def drain(self, logical_id: str) -> list[MessageTypeDef]:
        url = self.stack.physical_id(logical_id)
        messages: list[MessageTypeDef] = []
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            messages += batch
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def delivered(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.drain("ExampleSubscriberQueue")]

    def intercept_put_events(
        self, monkeypatch: pytest.MonkeyPatch, wrap: Callable[[PutEvents], PutEvents]
    ) -> None:
        events = adapters.aws_clients.client("events")
        monkeypatch.setattr(events, "put_events", wrap(events.put_events))


@pytest.fixture
def pipeline(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    handle_user_stream.pipeline.cache_clear()
    # Backoff between PutEvents attempts is real in Lambda; zero here keeps tests fast.
    monkeypatch.setattr("adapters.eventbridge_publisher.random.uniform", lambda a, b: 0.0)
    pipeline = Pipeline(stack)

    def counting(put_events: PutEvents) -> PutEvents:
        def call(**kwargs: Any) -> Mapping[str, Any]:
            pipeline.put_events_calls.append(len(kwargs["Entries"]))
            return put_events(**kwargs)

        return call

    pipeline.intercept_put_events(monkeypatch, counting)
    yield pipeline
    handle_user_stream.pipeline.cache_clear()


def _failing(
    failing_ids: set[str], code: str, times: int | None = None
) -> Callable[[PutEvents], PutEvents]:
    """PutEvents that reports the entries of the given users as failed (``times`` calls, or always),
    the way EventBridge does: the call succeeds, those entries carry an ErrorCode."""
    remaining = [times]

    def wrap(put_events: PutEvents) -> PutEvents:
        def call(**kwargs: Any) -> dict[str, Any]:
            entries = kwargs["Entries"]
            doomed = [json.loads(e["Detail"])["user"]["id"] in failing_ids for e in entries]
            if remaining[0] is not None:
                if remaining[0] <= 0:
                    doomed = [False] * len(entries)
                remaining[0] -= 1
            passed = [e for e, fail in zip(entries, doomed, strict=True) if not fail]
            results = iter(put_events(Entries=passed)["Entries"] if passed else [])
            out = [
                {"ErrorCode": code, "ErrorMessage": "injected"} if fail else next(results)
                for fail in doomed
            ]
            return {"FailedEntryCount": sum(doomed), "Entries": out}

        return call

    return wrap


@pytest.mark.parametrize("count", [1, 10, 11, 100])
def test_given_n_inserts_when_processed_then_each_reaches_the_subscriber_once_in_chunks_of_ten(
    pipeline: Pipeline, count: int
) -> None:
    records = [created(f"user-{i}", email=f"user{i}@example.com") for i in range(count)]

    failures = pipeline.run(records)

    assert failures == []
    events = pipeline.delivered()
    assert sorted(e["detail"]["user"]["id"] for e in events) == sorted(
        f"user-{i}" for i in range(count)
    )
    assert len({e["detail"]["event_id"] for e in events}) == count
    for event in events:
        assert event["detail-type"] == "UserCreated"
        assert event["source"] == "userflow.users"
        assert_published_event_is_valid(event)
    assert all(size <= 10 for size in pipeline.put_events_calls)
    assert len(pipeline.put_events_calls) == -(-count // 10)


def test_given_a_poison_record_in_a_batch_when_processed_then_it_goes_to_the_poison_queue_only(
    pipeline: Pipeline,
) -> None:
    bad = poison(sequence_number="500")
    records = [created("a"), bad, created("b")]

    failures = pipeline.run(records)

    assert failures == []
    assert sorted(e["detail"]["user"]["id"] for e in pipeline.delivered()) == ["a", "b"]
    [message] = pipeline.drain("UserStreamPoisonQueue")
    body = json.loads(message["Body"])
    assert body["record"]["dynamodb"]["SequenceNumber"] == "500"
    assert body["record"]["dynamodb"]["NewImage"] == bad["dynamodb"]["NewImage"]
    assert "NewImage is not a valid user" in body["reason"]


def test_given_poison_record_with_secret_when_kept_then_dlq_message_has_no_hash(
    pipeline: Pipeline,
) -> None:
    bad = created("c")
    bad["dynamodb"]["NewImage"]["created_at"] = {"S": "not a date"}

    pipeline.run([bad])

    [message] = pipeline.drain("UserStreamPoisonQueue")
    assert "password_hash" not in message["Body"]
    assert "secrethash" not in message["Body"]


def test_given_putevents_fails_some_entries_when_processed_then_only_their_records_are_retried(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [created(f"u{i}") for i in range(12)]
    pipeline.intercept_put_events(monkeypatch, _failing({"u3", "u11"}, "InternalFailure"))

    failures = pipeline.run(records)

    by_user = {
        r["dynamodb"]["NewImage"]["id"]["S"]: r["dynamodb"]["SequenceNumber"] for r in records
    }
    assert sorted(failures) == sorted([by_user["u3"], by_user["u11"]])
    delivered = {e["detail"]["user"]["id"] for e in pipeline.delivered()}
    assert delivered == {f"u{i}" for i in range(12)} - {"u3", "u11"}


def test_given_failed_records_when_lambda_retries_them_then_events_keep_their_ids(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [created("x"), created("y")]
    pipeline.intercept_put_events(monkeypatch, _failing({"y"}, "InternalFailure", times=1))
    first = pipeline.run(records)
    retried = [r for r in records if r["dynamodb"]["SequenceNumber"] in first]

    assert pipeline.run(retried) == []

    events = pipeline.delivered()
    assert [e["detail"]["user"]["id"] for e in events].count("y") == 1
    retry_id = next(e["detail"]["event_id"] for e in events if e["detail"]["user"]["id"] == "y")
    assert pipeline.run(retried) == []  # a replay of the same record
    assert [e["detail"]["event_id"] for e in pipeline.delivered()] == [retry_id]


def test_given_throttling_when_processed_then_retried_with_backoff_and_nothing_fails(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [created(f"t{i}") for i in range(3)]
    pipeline.intercept_put_events(
        monkeypatch, _failing({"t0", "t1", "t2"}, "ThrottlingException", times=2)
    )

    assert pipeline.run(records) == []

    assert len(pipeline.delivered()) == 3


def test_given_every_entry_fails_when_processed_then_all_records_are_reported_not_raised(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [created("p"), created("q")]
    pipeline.intercept_put_events(monkeypatch, _failing({"p", "q"}, "InternalFailure"))

    failures = pipeline.run(records)

    assert sorted(failures) == sorted(r["dynamodb"]["SequenceNumber"] for r in records)
    assert pipeline.delivered() == []


def test_given_a_poison_record_after_a_failed_one_when_lambda_retries_then_kept_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [created("ok"), created("flaky"), poison(), created("late")]
    pipeline.intercept_put_events(monkeypatch, _failing({"flaky"}, "InternalFailure", times=2))

    attempts = []
    batch = records
    while failed := pipeline.run(batch):
        attempts.append(failed)
        # Lambda re-delivers from the lowest failed record on (partial batch response).
        lowest = min(int(seq) for seq in failed)
        batch = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= lowest]

    assert len(attempts) == 2
    assert len(pipeline.drain("UserStreamPoisonQueue")) == 1
    delivered = {e["detail"]["user"]["id"] for e in pipeline.delivered()}
    assert delivered == {"ok", "flaky", "late"}


def test_given_a_record_whose_event_cannot_be_serialized_when_processed_then_only_it_is_poison(
    pipeline: Pipeline,
) -> None:
    hostile = created("hostile")
    hostile["dynamodb"]["NewImage"]["name"] = {"S": "Ada \ud800"}  # a lone surrogate
    good = created("good", email="good@example.com")

    failures = pipeline.run([hostile, good])

    assert failures == []
    assert [e["detail"]["user"]["id"] for e in pipeline.delivered()] == ["good"]
    [kept] = pipeline.drain("UserStreamPoisonQueue")
    assert json.loads(kept["Body"])["record"]["dynamodb"]["Keys"]["PK"]["S"] == "USER#hostile"


def test_given_a_poison_record_with_a_large_non_ascii_attribute_when_processed_then_it_is_kept(
    pipeline: Pipeline,
) -> None:
    hostile = created("big")
    hostile["dynamodb"]["NewImage"]["version"] = {"S": "one"}  # cannot map
    # 360 KB of emoji: within DynamoDB's 400 KB item, 4.3 MB as \u escapes in JSON.
    hostile["dynamodb"]["NewImage"]["bio"] = {"S": "\U0001f600" * 90_000}

    failures = pipeline.run([hostile])

    assert failures == []
    [kept] = pipeline.drain("UserStreamPoisonQueue")
    assert json.loads(kept["Body"])["record"]["dynamodb"]["NewImage"]["bio"]["S"].startswith(
        "\U0001f600"
    )


def test_given_a_poison_record_when_processed_then_its_log_line_names_the_user(
    pipeline: Pipeline, function_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    pipeline.run([poison("7"), created("fine")])

    [line] = [line for line in function_logs() if line["message"] == "Record not published"]
    assert (line["user_id"], line["sequence_number"], line["status"]) == ("broken", "7", "poison")
