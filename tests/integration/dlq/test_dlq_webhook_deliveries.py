"""`userflow dlq list/status/show/drop/replay` on dead-lettered webhook deliveries (moto stack, the
delivery function run as the local SQS mapping runs it): WebhookDeadLetterQueue is found by its
tag, a delivery is summarised without any secret, dropped after being saved, and replayed to
WebhookQueue from its first attempt with the same id and bytes - by `dlq replay` and by
`webhooks replay`, which is the same replay for one endpoint."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from adapters.sqs_webhook_queue import SqsWebhookQueue
from domain.webhook_deliveries import Delivery
from domain.webhooks import EndpointStatus
from samlocal.sqs_mapping import SqsPoller
from tests.support.operator_stack import record_as_local
from tests.support.webhook_delivery import add_endpoint, dead_count, queue_event, run_until
from tests.support.webhook_receiver import webhook_receiver
from userflow.cli import main
from userflow.commands import webhooks
from userflow.dlq.webhook_replay import endpoint_store
from userflow.stack import Stack

DLQ = "WebhookDeadLetterQueue"
EVENT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def local(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    record_as_local(stack, tmp_path, monkeypatch)
    stack.local = True
    return stack


def _dead_letter(stack: Stack, endpoint_id: str, *, event_id: str = EVENT_ID) -> Delivery:
    """A delivery given up as the delivery function gives it up (its queue adapter)."""
    payload = json.dumps({"detail-type": "UserCreated", "detail": {"event_id": event_id}})
    given_up = Delivery(endpoint_id, event_id, "UserCreated", payload, 3, 1.5, "HTTP 500")
    SqsWebhookQueue(
        stack.physical_id("WebhookQueue"), stack.physical_id(DLQ), stack.client("sqs")
    ).dead_letter(given_up, "no attempt left after 3: HTTP 500")
    return given_up


def _queued(stack: Stack, url_of: str = "WebhookQueue") -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    got = sqs.receive_message(
        QueueUrl=stack.physical_id(url_of), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def _listing(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["dlq", "list", "--json"])
    queues = {q["queue"]: q for q in json.loads(capsys.readouterr().out)["queues"]}
    return code, queues[DLQ]


def _message_id(capsys: pytest.CaptureFixture[str]) -> str:
    _, listing = _listing(capsys)
    [message] = listing["messages"]
    return str(message["id"])


def test_given_a_dead_lettered_delivery_when_listed_then_its_queue_and_summary_show(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    _dead_letter(local, "e1")

    code, listing = _listing(capsys)
    status = main(["status"])

    assert code == 1
    assert listing["visible"] == 1
    [message] = listing["messages"]
    assert message["kind"] == "webhook-delivery"
    assert message["summary"] == (
        f"webhook delivery of UserCreated event_id {EVENT_ID} to endpoint e1, attempt 3: "
        "no attempt left after 3: HTTP 500"
    )
    assert status == 1
    assert f"! {DLQ} (dead letters): 1 / 0" in capsys.readouterr().out


def test_given_a_dead_lettered_delivery_when_shown_then_summarised_and_no_secret_printed(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint_id, secret = add_endpoint(local, "http://localhost:9/hook")
    _dead_letter(local, endpoint_id)
    message_id = _message_id(capsys)

    assert main(["dlq", "show", DLQ, message_id]) == 0
    text = capsys.readouterr().out
    assert main(["dlq", "show", DLQ, message_id, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)

    assert f"webhook-delivery: webhook delivery of UserCreated event_id {EVENT_ID}" in text
    assert document["kind"] == "webhook-delivery"
    assert document["message_attributes"]["endpoint_id"] == endpoint_id
    assert json.loads(document["body"])["delivery"]["message_id"] == EVENT_ID
    for shown in (text, json.dumps(document)):
        assert secret not in shown
        assert secret.removeprefix("whsec_") not in shown
        assert "whsec_" not in shown
    assert dead_count(local) == 1  # looking took nothing away


def test_given_a_dead_lettered_delivery_when_dropped_then_saved_first_and_gone(
    local: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given_up = _dead_letter(local, "e1")
    message_id = _message_id(capsys)
    saved = tmp_path / "dropped.json"

    code = main(["dlq", "drop", DLQ, message_id, "--yes", "--output", str(saved)])

    assert code == 0
    assert json.loads(json.loads(saved.read_text())["body"])["delivery"] == given_up.__dict__
    assert dead_count(local) == 0
    assert _queued(local) == []  # nothing re-sent


def test_given_a_delivery_that_ran_out_of_attempts_when_dlq_replay_runs_twice_then_delivered_once_more_signed_and_the_same(  # noqa: E501
    local: Stack,
    delivery: SqsPoller,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with webhook_receiver([500, 500, 500]) as receiver:
        _endpoint_id, secret = add_endpoint(local, receiver.url)
        queue_event(local)
        run_until(delivery, lambda: dead_count(local) > 0)
        assert len(receiver.received) == 3

        first = main(["dlq", "replay", "--queue", DLQ])
        requeued = _queued(local)
        second = main(["dlq", "replay", "--queue", DLQ])
        run_until(delivery, lambda: len(receiver.received) >= 4)

        out = capsys.readouterr().out
        assert (first, second) == (0, 0)
        assert f"{DLQ}: re-drove 1, 0 left" in out
        assert f"{DLQ}: re-drove 0, 0 left" in out  # the second run finds nothing to re-drive
        [again] = [body["delivery"] for body in requeued]
        assert (again["attempt"], again["not_before"], again["message_id"]) == (1, 0.0, EVENT_ID)
        assert len(receiver.received) == 4
        last = receiver.received[-1]
        Webhook(secret).verify(last.body, last.headers)
        assert last.headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
        assert last.body == receiver.received[0].body
        assert dead_count(local) == 0


def test_given_a_dry_run_when_replayed_then_nothing_is_sent_and_the_delivery_stays(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint_id, _ = add_endpoint(local, "http://localhost:9/hook")
    _dead_letter(local, endpoint_id)

    code = main(["dlq", "replay", "--dry-run", "--queue", DLQ])

    assert code == 0
    assert "would re-queue to WebhookQueue" in capsys.readouterr().out
    assert _queued(local) == []
    assert dead_count(local) == 1


def test_given_a_disabled_endpoint_when_dlq_replay_runs_then_its_delivery_stays_until_webhooks_replay(  # noqa: E501
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    disabled, _ = add_endpoint(local, "http://localhost:9/a")
    other, _ = add_endpoint(local, "http://localhost:9/b")
    endpoint_store(local).set_status(disabled, EndpointStatus.DISABLED)
    _dead_letter(local, disabled)
    _dead_letter(local, other, event_id="22222222-2222-3333-4444-555555555555")
    endpoint_store(local).set_status(other, EndpointStatus.DISABLED)

    kept = main(["dlq", "replay", "--queue", DLQ])
    out = capsys.readouterr().out
    out_of_webhooks = io.StringIO()
    enabled = webhooks.replay(local, disabled, out_of_webhooks)

    assert kept == 1
    assert f"endpoint {disabled} is disabled: `userflow webhooks replay {disabled}`" in out
    assert enabled == 1  # the other endpoint's delivery is left in the queue
    assert f"{DLQ}: re-drove 1, 1 left (1 not considered" in out_of_webhooks.getvalue()
    assert f"not for {disabled}" in out_of_webhooks.getvalue()
    assert [body["delivery"]["endpoint_id"] for body in _queued(local)] == [disabled]
    assert endpoint_store(local).get(disabled).status is EndpointStatus.ACTIVE  # type: ignore[union-attr]
    assert endpoint_store(local).get(other).status is EndpointStatus.DISABLED  # type: ignore[union-attr]
    assert dead_count(local) == 1


def test_given_a_removed_endpoint_when_its_delivery_is_replayed_then_dropped_and_nothing_sent(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    _dead_letter(local, "removed-endpoint")

    code = main(["dlq", "replay", "--queue", DLQ])

    assert code == 0
    assert "endpoint removed-endpoint was removed: nothing to deliver, dropped" in (
        capsys.readouterr().out
    )
    assert _queued(local) == []
    assert dead_count(local) == 0


def test_given_an_event_eventbridge_could_not_queue_when_replayed_then_sent_to_the_webhook_queue(
    local: Stack,
) -> None:
    event = {"detail-type": "UserCreated", "detail": {"event_id": EVENT_ID}}
    attributes = {
        "RULE_ARN": "arn:aws:events:us-east-1:1:rule/w",
        "TARGET_ARN": local.resources["WebhookQueue"]["arn"],
        "ERROR_CODE": "SQSError",
    }
    local.client("sqs").send_message(
        QueueUrl=local.physical_id(DLQ),
        MessageBody=json.dumps(event),
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    )

    assert main(["dlq", "replay", "--queue", DLQ]) == 0

    assert _queued(local) == [event]  # fanned out to the endpoints by the delivery function


def test_given_an_event_the_fan_out_kept_failing_on_when_replayed_then_fanned_out_again_and_delivered(  # noqa: E501
    local: Stack,
    delivery: SqsPoller,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = {
        "version": "0",
        "id": "e-1",
        "detail-type": "UserCreated",
        "source": "userflow.users",
        "time": "2026-03-01T09:30:00Z",
        "detail": {"event_id": EVENT_ID, "user": {"id": "u-1"}},
    }
    # As SQS moves it after maxReceiveCount receives: the body alone, no attribute.
    local.client("sqs").send_message(QueueUrl=local.physical_id(DLQ), MessageBody=json.dumps(event))
    with webhook_receiver() as receiver:
        _, secret = add_endpoint(local, receiver.url)

        _, listing = _listing(capsys)
        code = main(["dlq", "replay", "--queue", DLQ])
        run_until(delivery, lambda: receiver.received)

        assert [m["kind"] for m in listing["messages"]] == ["failed-event"]
        assert code == 0
        assert "re-sent to" in capsys.readouterr().out
        [got] = receiver.received
        assert Webhook(secret).verify(got.body, got.headers)["detail"]["event_id"] == EVENT_ID
        assert dead_count(local) == 0


def test_given_an_event_in_a_dlq_no_queue_sends_to_when_replayed_then_it_stays_named(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"detail-type": "UserCreated", "source": "userflow.users", "detail": {}}
    poison = local.physical_id("UserStreamPoisonQueue")
    local.client("sqs").send_message(QueueUrl=poison, MessageBody=json.dumps(event))

    code = main(["dlq", "replay", "--queue", "UserStreamPoisonQueue"])

    assert code == 1
    assert "no single queue sends its dead letters here (found: none)" in capsys.readouterr().out
