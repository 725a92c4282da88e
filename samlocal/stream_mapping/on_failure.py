"""Lambda's on-failure destination for a stream mapping: the metadata record of a batch given up.

The record names the batch (shard, first and last sequence numbers, arrival times, size) but does
not carry it: replay re-reads the stream. It goes to an SQS queue or an SNS topic; with no
destination the batch is only logged, as Lambda drops it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("samlocal")


@dataclass(frozen=True)
class GivenUp:
    """Why and how a batch was given up."""

    condition: str
    """``RetryAttemptsExhausted`` or ``RecordAgeExceeded``."""
    invoke_count: int
    request_id: str
    function_error: bool


def _iso(moment: datetime, millis: bool = False) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


def failure_record(
    records: list[dict[str, Any]],
    given_up: GivenUp,
    *,
    function_arn: str,
    shard_id: str,
    stream_arn: str,
) -> dict[str, Any]:
    """The JSON document Lambda sends to the on-failure destination."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if given_up.function_error:
        response_context["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": given_up.request_id,
            "functionArn": function_arn,
            "condition": given_up.condition,
            "approximateInvokeCount": given_up.invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(datetime.now(UTC), millis=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(
                datetime.fromtimestamp(first["ApproximateCreationDateTime"], UTC)
            ),
            "approximateArrivalOfLastRecord": _iso(
                datetime.fromtimestamp(last["ApproximateCreationDateTime"], UTC)
            ),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


class OnFailureDestination:
    """Sends metadata records to one destination ARN (SQS queue or SNS topic), if any."""

    def __init__(self, destination: str | None, client: Callable[[str], Any]) -> None:
        self.destination = destination
        self.client = client
        self._queue_url: str | None = None

    def send(self, record: dict[str, Any]) -> None:
        """Sends ``record``; a failure to send is logged (Lambda would drop it too)."""
        if not self.destination:
            return
        try:
            self._send(json.dumps(record))
        except Exception:
            log.exception("cannot send the on-failure record to %s", self.destination)

    def _send(self, body: str) -> None:
        destination = str(self.destination)
        if destination.split(":")[2] == "sns":
            self.client("sns").publish(TopicArn=destination, Message=body)
            return
        sqs = self.client("sqs")
        if self._queue_url is None:
            account, name = destination.split(":")[4:6]
            self._queue_url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
        sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)
