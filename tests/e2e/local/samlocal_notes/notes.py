"""Notes, the emulator's own test application: a note written over HTTP, then seen through the
table's stream and reported on a queue (tests/e2e/local/test_samlocal_template.py)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def write_note(event: dict[str, Any], context: Any) -> dict[str, Any]:
    note_id = event["pathParameters"]["id"]
    text = str(json.loads(event.get("body") or "{}").get("text", ""))
    boto3.client("dynamodb").put_item(
        TableName=os.environ["NOTES_TABLE"], Item={"id": {"S": note_id}, "text": {"S": text}}
    )
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"id": note_id, "text": text}),
    }


def note_seen(event: dict[str, Any], context: Any) -> None:
    sqs = boto3.client("sqs")
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        sqs.send_message(
            QueueUrl=os.environ["SEEN_QUEUE_URL"],
            MessageBody=json.dumps({"id": image["id"]["S"], "text": image["text"]["S"]}),
        )
