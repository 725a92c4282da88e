"""``LifecyclePipeline`` decides each record's fate alone (in-memory publisher and poison sink,
the adapters' own stream-record reader)."""

from __future__ import annotations

from adapters.stream_records import table_change
from domain.event_pipeline import LifecyclePipeline, RecordStatus, sequence_number
from tests.support.fakes import InMemoryEventPublisher, InMemoryPoisonSink
from tests.support.stream_records import created, poison, stream_record, user_image


def test_given_a_batch_when_one_event_fails_to_publish_then_only_its_record_is_retried() -> None:
    records = [created("u-1"), created("u-2"), created("u-3")]
    failing = sequence_number(records[1])
    publisher = InMemoryEventPublisher(failing={failing: "InternalFailure"})

    outcomes = LifecyclePipeline(publisher, table_change).process(records)

    assert {seq: outcome.status for seq, outcome in outcomes.items()} == {
        sequence_number(records[0]): RecordStatus.PUBLISHED,
        failing: RecordStatus.FAILED,
        sequence_number(records[2]): RecordStatus.PUBLISHED,
    }
    assert [event.detail.user.id for event in publisher.published] == ["u-1", "u-3"]
    reason = outcomes[failing].reason
    assert reason is not None
    assert reason.startswith("InternalFailure")


def test_given_a_change_subscribers_need_not_hear_about_when_processed_then_skipped() -> None:
    unchanged = stream_record("MODIFY", new=user_image(), old=user_image())
    publisher = InMemoryEventPublisher()

    outcomes = LifecyclePipeline(publisher, table_change).process([unchanged])

    assert outcomes[sequence_number(unchanged)].status is RecordStatus.SKIPPED
    assert publisher.published == []


def test_given_a_poison_record_when_processed_then_kept_without_secrets_and_others_published() -> (
    None
):
    bad, good = poison(), created("u-1")
    bad["dynamodb"]["NewImage"]["password_hash"] = {"S": "scrypt$secret"}
    publisher, sink = InMemoryEventPublisher(), InMemoryPoisonSink()

    outcomes = LifecyclePipeline(publisher, table_change, sink).process([bad, good])

    assert outcomes[sequence_number(bad)].status is RecordStatus.POISON
    assert outcomes[sequence_number(good)].status is RecordStatus.PUBLISHED
    [(kept, reason)] = sink.kept
    assert "password_hash" not in kept["dynamodb"]["NewImage"]
    assert reason == outcomes[sequence_number(bad)].reason


def test_given_the_poison_queue_down_when_a_poison_record_arrives_then_it_is_retried() -> None:
    bad = poison()

    pipeline = LifecyclePipeline(
        InMemoryEventPublisher(), table_change, InMemoryPoisonSink(unavailable=True)
    )
    outcome = pipeline.process([bad])[sequence_number(bad)]

    assert outcome.status is RecordStatus.FAILED
    assert outcome.reason is not None
    assert "poison queue unavailable" in outcome.reason
