"""Which queues `userflow dlq` and `userflow status` take for the stack's dead-letter queues: its
own tagged ones, and any queue of the account tagged with the stack's name; what discovery cannot
look at is named, never silently skipped."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.moto_patches import patch_client_method
from userflow.dlq.discovery import DEAD_LETTER_TAG, PURPOSE_TAG, discover
from userflow.stack import Stack


def test_given_queues_outside_the_stack_when_discovered_then_only_those_tagged_for_it(
    stack: Stack,
) -> None:
    sqs = stack.client("sqs")
    ours = sqs.create_queue(
        QueueName="subscriber-dlq", tags={DEAD_LETTER_TAG: stack.name, PURPOSE_TAG: "billing"}
    )["QueueUrl"]
    sqs.create_queue(QueueName="other-stacks-dlq", tags={DEAD_LETTER_TAG: "userflow-other"})
    sqs.create_queue(QueueName="untagged")

    found = discover(stack, sqs)

    outside = [queue for queue in found.queues if queue.outside_stack]
    assert [(q.url, q.label, q.purpose) for q in outside] == [(ours, "subscriber-dlq", "billing")]
    assert {q.logical_id for q in found.queues if not q.outside_stack} >= {
        "UserStreamFailureQueue",
        "UserStreamPoisonQueue",
        "ExampleSubscriberDLQ",
        "MailDeadLetterQueue",
        "WebhookDeadLetterQueue",
    }
    assert found.unreadable == []


def test_given_queues_that_cannot_be_listed_when_discovered_then_the_stacks_own_and_a_warning(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrap(get_paginator: Any) -> Any:
        def call(name: str) -> Any:
            if name != "list_queues":
                return get_paginator(name)
            denied = {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}
            raise ClientError(denied, "ListQueues")  # type: ignore[arg-type]

        return call

    patch_client_method(monkeypatch, stack, "sqs", "get_paginator", wrap)

    found = discover(stack, stack.client("sqs"))

    assert "UserStreamPoisonQueue" in {queue.label for queue in found.queues}
    assert found.unreadable == ["the account's queues cannot be listed (AccessDenied)"]


def test_given_a_queue_that_fails_when_replayed_then_named_and_the_others_are_replayed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from tests.support.dead_letters import arrived, target_failure
    from userflow.commands.dlq import replay
    from userflow.dlq.queue import QueueIo

    sqs = stack.client("sqs")
    broken = sqs.create_queue(QueueName="denied-dlq", tags={DEAD_LETTER_TAG: stack.name})
    target_failure(stack)
    depth = QueueIo.depth

    def denied_for_one(self: QueueIo) -> Any:
        if self.url == broken["QueueUrl"]:
            denied = {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}
            raise ClientError(denied, "GetQueueAttributes")  # type: ignore[arg-type]
        return depth(self)

    monkeypatch.setattr(QueueIo, "depth", denied_for_one)
    out = io.StringIO()

    code = replay(stack, False, None, out, wait_seconds=0)

    assert code == 1
    assert "denied-dlq: cannot be replayed (ClientError: " in out.getvalue()
    assert "ExampleSubscriberDLQ: re-drove 1, 0 left" in out.getvalue()
    assert len(arrived(stack)) == 1
