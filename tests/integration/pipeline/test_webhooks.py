"""Webhooks on the moto stack, with the delivery function run as the local SQS mapping runs it:
registration (secret shown once, SSRF refused), signed deliveries checked with the
standardwebhooks library, retries on the schedule, dead-letters, disabling, replay, removal."""

from __future__ import annotations

import io
import itertools
import json
import time
from typing import Any

import pytest
from standardwebhooks import Webhook

from samlocal.sqs_mapping import SqsPoller
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.support.api_clients import UserFactory
from tests.support.dead_letters import table_stream
from tests.support.stream_processor import Pipeline
from tests.support.webhook_delivery import add_endpoint, dead_count, queue_event, run_until
from tests.support.webhook_receiver import webhook_receiver
from userflow.commands import webhooks
from userflow.errors import CommandError
from userflow.stack import Stack


def _dead(stack: Stack) -> list[Any]:
    sqs = stack.client("sqs")
    url = stack.physical_id("WebhookDeadLetterQueue")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return got.get("Messages", [])


def test_given_an_endpoint_when_a_user_registers_then_a_delivery_signed_per_standard_webhooks(
    stack: Stack,
    pipeline: Pipeline,
    make_user: UserFactory,
    delivery: SqsPoller,
) -> None:
    with webhook_receiver() as receiver:
        _endpoint_id, secret = add_endpoint(stack, receiver.url)
        user = make_user()
        arn, _, records = table_stream(stack)
        assert pipeline.run([as_lambda_record(r, arn) for r in records]) == []
        run_until(delivery, lambda: receiver.received)

        [got] = receiver.received
        event = Webhook(secret).verify(got.body, got.headers)
        assert event["detail-type"] == "UserCreated"
        assert event["detail"]["user"]["id"] == user.id
        assert got.headers["webhook-id"] == event["detail"]["event_id"]
        assert got.headers["content-type"] == "application/json"


def test_given_500s_then_retried_on_the_schedule_and_the_same_message_each_time(
    stack: Stack, delivery: SqsPoller
) -> None:
    with webhook_receiver([500, 500]) as receiver:
        _, secret = add_endpoint(stack, receiver.url)
        queue_event(stack)
        run_until(delivery, lambda: len(receiver.received) >= 3)

        attempts = receiver.received
        assert len(attempts) == 3
        assert {a.headers["webhook-id"] for a in attempts} == {
            "11111111-2222-3333-4444-555555555555"
        }
        assert {a.body for a in attempts} == {attempts[0].body}
        for attempt in attempts:
            Webhook(secret).verify(attempt.body, attempt.headers)
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
        assert all(gap >= 0.9 for gap in gaps), gaps  # the schedule: 1 s, then 1 s
        assert _dead(stack) == []


def test_given_an_endpoint_that_keeps_failing_then_dead_lettered_after_the_last_attempt(
    stack: Stack, delivery: SqsPoller
) -> None:
    with webhook_receiver([500, 503, 302]) as receiver:
        endpoint_id, _ = add_endpoint(stack, receiver.url)
        queue_event(stack)
        run_until(delivery, lambda: dead_count(stack) > 0)

        assert len(receiver.received) == 3  # the redirect was not followed
        [dead] = _dead(stack)
        assert dead["MessageAttributes"]["endpoint_id"]["StringValue"] == endpoint_id
        assert "HTTP 302" in dead["MessageAttributes"]["reason"]["StringValue"]
        listed = io.StringIO()
        webhooks.list_endpoints(stack, listed, as_json=True)
        assert json.loads(listed.getvalue())["failing_since"] is not None


def test_given_dead_letters_when_replayed_then_delivered_again_and_the_endpoint_recovers(
    stack: Stack, delivery: SqsPoller
) -> None:
    with webhook_receiver([500, 500, 500]) as receiver:
        endpoint_id, _ = add_endpoint(stack, receiver.url)
        queue_event(stack)
        run_until(delivery, lambda: dead_count(stack) > 0)

        out = io.StringIO()
        webhooks.replay(stack, endpoint_id, out)
        run_until(delivery, lambda: len(receiver.received) >= 4)

        assert "WebhookDeadLetterQueue: re-drove 1, 0 left" in out.getvalue()
        assert len(receiver.received) == 4
        listed = io.StringIO()
        webhooks.list_endpoints(stack, listed, as_json=True)
        assert json.loads(listed.getvalue())["failing_since"] is None


def test_given_event_types_then_only_those_are_delivered(stack: Stack, delivery: SqsPoller) -> None:
    with webhook_receiver() as receiver:
        add_endpoint(stack, receiver.url, ["PasswordChanged"])
        queue_event(stack, "UserCreated")
        queue_event(stack, "PasswordChanged")
        run_until(delivery, lambda: receiver.received)
        time.sleep(0.3)
        delivery.poll_once()

        assert [json.loads(r.body)["detail-type"] for r in receiver.received] == ["PasswordChanged"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fd00::1]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://user:pass@example.com/",
        "ftp://example.com/",
        "http://localhost\u0000.example.com/",
    ],
)
def test_given_a_private_or_malformed_url_when_added_then_refused(url: str) -> None:
    """Refused before anything is created: no stack is needed to show it."""
    stack = Stack(name="userflow-local", region="us-east-1", endpoint_url=None, local=True)
    with pytest.raises(CommandError, match="refused"):
        webhooks.add(stack, url, None, io.StringIO())


def test_given_a_deployed_stack_then_http_and_loopback_are_refused() -> None:
    stack = Stack(name="userflow-prod", region="us-east-1", endpoint_url=None)
    for url in ("http://example.com/hook", "https://127.0.0.1/hook"):
        with pytest.raises(CommandError, match="refused"):
            webhooks.add(stack, url, None, io.StringIO())


def test_given_an_unknown_event_type_when_added_then_refused() -> None:
    stack = Stack(name="userflow-local", region="us-east-1", endpoint_url=None, local=True)
    with pytest.raises(CommandError, match="UserHacked"):
        webhooks.add(stack, "http://127.0.0.1:9/", ["UserHacked"], io.StringIO())


def test_given_a_host_that_now_resolves_inside_when_delivering_then_refused_not_posted(
    stack: Stack, delivery: SqsPoller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name passed at registration; at delivery it points at the metadata
    service, and nothing is sent."""
    with webhook_receiver([]) as receiver:
        _endpoint_id, _ = add_endpoint(stack, receiver.url)
        monkeypatch.setattr(
            "adapters.webhook_delivery.resolved_addresses", lambda host, port: ["169.254.169.254"]
        )
        queue_event(stack)
        run_until(delivery, lambda: dead_count(stack) > 0)

        assert receiver.received == []
        [dead] = _dead(stack)
        assert "private address" in dead["MessageAttributes"]["reason"]["StringValue"]


def test_given_an_endpoint_when_removed_then_its_secret_goes_and_nothing_is_delivered(
    stack: Stack, delivery: SqsPoller
) -> None:
    with webhook_receiver() as receiver:
        endpoint_id, _ = add_endpoint(stack, receiver.url)
        assert webhooks.remove(stack, endpoint_id, io.StringIO()) == 0
        queue_event(stack)
        run_until(delivery, lambda: False, timeout=1.0)

        assert receiver.received == []
        assert json.loads(_listed(stack) or "null") is None
        secrets = stack.client("secretsmanager").get_secret_value(
            SecretId=stack.physical_id("WebhookSigningSecrets")
        )
        assert endpoint_id not in json.loads(secrets["SecretString"])


def _listed(stack: Stack) -> str:
    out = io.StringIO()
    webhooks.list_endpoints(stack, out, as_json=True)
    return out.getvalue()
