"""PoisonSink on SQS: keeps a stream record that can never map, with the reason, for operators."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.aws_clients import client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

POISON_KIND = "userflow.poison-record"


class SqsPoisonQueue:
    def __init__(self, queue_url: str, sqs_client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._sqs = sqs_client or client("sqs")

    def send(self, record: Mapping[str, Any], reason: str) -> None:
        body = {"kind": POISON_KIND, "reason": reason, "record": record}
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(body, default=str),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
        )
