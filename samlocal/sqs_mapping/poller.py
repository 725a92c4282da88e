"""SQS event source mappings, as Lambda runs them (``Type: SQS`` events of the template).

Moto drops records on its own event source mappings, so the local stack never creates one: one
poller per mapping receives from the queue, invokes the function with Lambda's SQS event, and
deletes what succeeded. With ``ReportBatchItemFailures`` the failed messages stay in the queue
(visible again after the queue's visibility timeout, counted by its redrive policy); a function
error keeps the whole batch. Delayed messages arrive when their delay has passed, as on AWS.
Like Lambda's pollers, it long-polls: an idle queue costs a call every few seconds, and a message
sent wakes it at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from samlocal.intrinsics import Resolver
from samlocal.template import Template

log = logging.getLogger("samlocal")

LONG_POLL_SECONDS = 5
"""``WaitTimeSeconds`` of the poller's receives (a stopping stack's poller ends within it)."""


@dataclass(frozen=True)
class SqsMapping:
    function: str
    queue_arn: str
    batch_size: int = 10
    report_item_failures: bool = False
    enabled: bool = True


def sqs_mappings_from_template(template: Template, resolver: Resolver) -> list[SqsMapping]:
    mappings = []
    for event in template.function_events("SQS", resolver.resource_enabled):
        p = resolver.resolve(event.properties)
        mappings.append(
            SqsMapping(
                function=event.function,
                queue_arn=str(p["Queue"]),
                batch_size=int(p.get("BatchSize", 10)),
                report_item_failures="ReportBatchItemFailures"
                in (p.get("FunctionResponseTypes") or []),
                enabled=bool(p.get("Enabled", True)),
            )
        )
    return mappings


def lambda_sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event for received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "dataType": value.get("DataType", "String"),
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    def __init__(
        self,
        mapping: SqsMapping,
        *,
        invoke: Callable[[dict[str, Any]], Any],
        sqs: Any,
        queue_url: str,
        region: str,
        stop: threading.Event | None = None,
    ) -> None:
        self.mapping, self.invoke, self.sqs = mapping, invoke, sqs
        self.queue_url, self.region = queue_url, region
        self.stop = stop or threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once(wait_seconds=LONG_POLL_SECONDS)
            except Exception:
                log.exception("SQS poller for %s failed; retrying", self.mapping.function)
                self.stop.wait(0.2)

    def poll_once(self, wait_seconds: int = 0) -> bool:
        """Receives and processes one batch, waiting up to ``wait_seconds`` for one; True if
        there was one."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.mapping.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])
        if not messages:
            return False
        try:
            result = self.invoke(lambda_sqs_event(messages, self.mapping.queue_arn, self.region))
        except Exception as error:  # a function error: the whole batch stays for its retry
            log.warning("%s failed its SQS batch: %s", self.mapping.function, error)
            return True
        failed = self._failed(result)
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return True

    def _failed(self, result: Any) -> set[str]:
        if not self.mapping.report_item_failures or not isinstance(result, dict):
            return set()
        return {
            str(item.get("itemIdentifier"))
            for item in result.get("batchItemFailures") or []
            if isinstance(item, dict)
        }
