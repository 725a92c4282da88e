"""The stream processor function run in-process as Lambda runs it, on the moto stack: what reached
the example subscriber and the poison queue. The `pipeline` fixture is in
tests/integration/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import adapters.aws_clients
from handlers import handle_user_stream
from samlocal.functions.in_process import Invoker
from samlocal.template import load_template
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


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
