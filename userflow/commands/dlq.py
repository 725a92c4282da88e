"""`userflow dlq list|replay`: show and re-drive every dead-letter queue of the stack.

A DLQ is a queue whose template resource carries ``Metadata.Userflow.DeadLetter``. Each message
is re-driven by what it is:
- a stream on-failure record (metadata only): the records are re-read from the stream by shard and
  sequence range, or, once the stream no longer has them, taken from the table's current items;
  then they go through the processor's own path (map + publish);
- a poison record: mapped and published again (it stays when it still cannot map);
- an EventBridge target failure (RULE_ARN/TARGET_ARN attributes): sent to its target again.
A message is deleted only after its re-drive succeeded, so replay is safe to run twice: events
keep their event_id, subscribers see at most a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.eventbridge_publisher import EventBridgePublisher
from adapters.sqs_poison_queue import POISON_KIND, SqsPoisonQueue
from domain.event_pipeline import LifecyclePipeline, Status
from domain.events import USER_KEY_PREFIX, USER_SORT_KEY
from userflow.commands.mail_replay import MailReplayer, is_mail_batch
from userflow.stack import Stack, add_stack_arguments, resolve_stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
FALLBACK_SLACK = timedelta(seconds=2)
# DynamoDB Streams may answer empty pages before the records it holds; after this many in a row
# the batch's range is taken as no longer readable.
MAX_EMPTY_PAGES = 10


class StreamRangeIncomplete(LookupError):
    """The stream did not yield a batch's whole sequence range (trimmed, or shard ended early)."""


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str
    url: str
    purpose: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


def dead_letter_queues(stack: Stack, template: Path = TEMPLATE) -> list[DeadLetterQueue]:
    from userflow.local.template import load_template

    queues = []
    for logical_id, resource in load_template(template).resources.items():
        purpose = (resource.get("Metadata") or {}).get("Userflow", {}).get("DeadLetter")
        if purpose and logical_id in stack.resources:
            queues.append(DeadLetterQueue(logical_id, stack.physical_id(logical_id), purpose))
    return queues


def _kind(message: dict[str, Any], body: Any) -> str:
    if isinstance(body, dict) and "DDBStreamBatchInfo" in body:
        return "stream-failure"
    if isinstance(body, dict) and body.get("kind") == POISON_KIND:
        return "poison"
    if "TARGET_ARN" in message.get("MessageAttributes", {}):
        return "target-failure"
    return "unknown"


def _attribute(message: dict[str, Any], name: str) -> str:
    return str(message.get("MessageAttributes", {}).get(name, {}).get("StringValue", ""))


def summary(message: dict[str, Any]) -> str:
    """One readable line per message; never record images (they hold personal data)."""
    body = _body(message)
    kind = _kind(message, body)
    if kind == "stream-failure":
        info = body["DDBStreamBatchInfo"]
        condition = body.get("requestContext", {}).get("condition", "?")
        return (
            f"stream batch of {info.get('batchSize', '?')} record(s), shard {info['shardId']}, "
            f"sequence {info['startSequenceNumber']}..{info['endSequenceNumber']}, {condition}, "
            f"at {body.get('timestamp', '?')}"
        )
    if kind == "poison":
        record = body["record"]
        keys = record.get("dynamodb", {}).get("Keys", {})
        key = keys.get("PK", {}).get("S", "?")
        sequence = record.get("dynamodb", {}).get("SequenceNumber", "?")
        return (
            f"poison {record.get('eventName', '?')} {key} (sequence {sequence}): {body['reason']}"
        )
    if kind == "target-failure":
        detail = body.get("detail", {}) if isinstance(body, dict) else {}
        return (
            f"{body.get('detail-type', '?') if isinstance(body, dict) else '?'} "
            f"event_id {detail.get('event_id', '?')} user {detail.get('user', {}).get('id', '?')}"
            f" -> {_attribute(message, 'TARGET_ARN')}: {_attribute(message, 'ERROR_CODE')} "
            f"{_attribute(message, 'ERROR_MESSAGE')}"
        )
    return f"unrecognised message {message.get('MessageId', '?')}"


def _body(message: dict[str, Any]) -> Any:
    try:
        return json.loads(message["Body"])
    except ValueError:
        return message["Body"]


def _receive(sqs: Any, url: str, visibility: int, wait: int = 0) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=wait,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
    ).get("Messages", [])
    return messages


def _depth(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def list_dead_letters(stack: Stack, out: Any) -> int:
    sqs = stack.client("sqs")
    for queue in dead_letter_queues(stack):
        visible, in_flight = _depth(sqs, queue.url)
        print(f"{queue.logical_id} ({queue.name}): {visible} message(s)", end="", file=out)
        print(f", {in_flight} in flight" if in_flight else "", file=out)
        print(f"  {queue.purpose}", file=out)
        # VisibilityTimeout 0: peeking leaves the messages where they are.
        for message in _receive(sqs, queue.url, visibility=0) if visible else []:
            print(f"  - {summary(message)}", file=out)
        if visible > 10:
            print(f"  ... and {visible - 10} more", file=out)
    return 0


class Replayer:
    def __init__(self, stack: Stack, dry_run: bool, out: Any, wait_seconds: int = 1) -> None:
        """``wait_seconds``: SQS long polling, so that an empty answer means an empty queue."""
        self.stack = stack
        self.wait_seconds = wait_seconds
        self.dry_run = dry_run
        self.out = out
        self.sqs = stack.client("sqs")
        publisher = EventBridgePublisher(
            stack.physical_id("UserEventsBus"), events_client=stack.client("events")
        )
        poison_sink = SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), self.sqs)
        self.pipeline = LifecyclePipeline(publisher, poison_sink)
        self.retry_pipeline = LifecyclePipeline(publisher)  # poison stays in its own message

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def replay_queue(self, queue: DeadLetterQueue) -> tuple[int, int]:
        """Re-drive every message once; (re-driven, left in the queue), on a dry run what would be.

        Messages that stay are kept invisible until the queue is drained, so each is tried once,
        then made visible again for the next run.
        """
        done, left, kept = 0, 0, []
        while messages := _receive(self.sqs, queue.url, visibility=300, wait=self.wait_seconds):
            for message in messages:
                self.say(f"{queue.logical_id}: {summary(message)}")
                redriven = self.replay_message(message)
                done, left = done + redriven, left + (not redriven)
                if redriven and not self.dry_run:
                    self.sqs.delete_message(
                        QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"]
                    )
                else:
                    kept.append(message["ReceiptHandle"])
        for receipt in kept:
            self.sqs.change_message_visibility(
                QueueUrl=queue.url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        return done, left

    def replay_message(self, message: dict[str, Any]) -> bool:
        body = _body(message)
        kind = _kind(message, body)
        if kind == "stream-failure" and is_mail_batch(self.stack, body):
            return self._mail_batch(body["DDBStreamBatchInfo"])
        if kind == "stream-failure":
            return self._stream_failure(body["DDBStreamBatchInfo"])
        if kind == "poison":
            return self._records([body["record"]], self.retry_pipeline)
        if kind == "target-failure":
            return self._to_target(message)
        self.say("    left in place: not a message this tool knows how to re-drive")
        return False

    def _records(self, records: list[dict[str, Any]], pipeline: LifecyclePipeline) -> bool:
        if self.dry_run:
            self.say(f"    would re-process {len(records)} record(s)")
            return True
        outcomes = pipeline.process(records)
        counts = dict.fromkeys(Status, 0)
        for outcome in outcomes.values():
            counts[outcome.status] += 1
        self.say("    " + ", ".join(f"{n} {status}" for status, n in counts.items() if n))
        for outcome in outcomes.values():
            if outcome.status in (Status.FAILED, Status.POISON) and outcome.reason:
                self.say(f"    {outcome.status}: {outcome.reason}")
        # Through the retry pipeline a poison record has no queue to go to: its message stays.
        stays_poison = pipeline is self.retry_pipeline and counts[Status.POISON] > 0
        return counts[Status.FAILED] == 0 and not stays_poison

    def _stream_failure(self, info: dict[str, Any]) -> bool:
        try:
            records = list(self._stream_records(info))
        except Exception as error:  # trimmed, expired or unknown shard
            self.say(f"    stream records no longer readable ({type(error).__name__}: {error})")
            return self._from_table(info)
        self.say(f"    re-read {len(records)} record(s) from the stream")
        return self._records(records, self.pipeline)

    def _mail_batch(self, info: dict[str, Any]) -> bool:
        """Mail requests are re-read from the stream; past its 24 h retention every link in them
        has expired (reset: 1 h, verification: 24 h), so there is nothing left worth sending."""
        try:
            records = list(self._stream_records(info))
        except Exception as error:  # trimmed, expired or unknown shard
            self.say(f"    stream records no longer readable ({type(error).__name__}); their links")
            self.say("    have expired, nothing is sent (users can ask for a new link)")
            return True
        return MailReplayer(self.stack, self.dry_run, self.say).replay(records)

    def _stream_records(self, info: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The batch's records, up to its end sequence number, or StreamRangeIncomplete."""
        streams = self.stack.client("dynamodbstreams")
        start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"]
        empty_pages = 0
        while iterator and empty_pages < MAX_EMPTY_PAGES:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                sequence = int(record["dynamodb"]["SequenceNumber"])
                if start <= sequence <= end:
                    yield as_lambda_record(record, info["streamArn"])
                if sequence >= end:
                    return
            empty_pages = 0 if page["Records"] else empty_pages + 1
            iterator = page.get("NextShardIterator")
        raise StreamRangeIncomplete(f"the shard holds no record up to sequence {end}")

    def _from_table(self, info: dict[str, Any]) -> bool:
        """Publish the current state of the users changed in the batch's time window."""
        first = _parse_time(info["approximateArrivalOfFirstRecord"]) - FALLBACK_SLACK
        last = _parse_time(info["approximateArrivalOfLastRecord"]) + FALLBACK_SLACK
        items = [
            item
            for item in self._user_items()
            if first <= _parse_time(item["updated_at"]["S"]) <= last
        ]
        self.say(
            f"    falling back to the table's current items: {len(items)} user(s) changed between"
            f" {first:%Y-%m-%d %H:%M:%S} and {last:%H:%M:%S} are re-published as they are now;"
            " deletions in that window cannot be recovered"
        )
        records = [table_record(item, info["streamArn"]) for item in items]
        return self._records(records, self.pipeline)

    def _user_items(self) -> Iterator[dict[str, Any]]:
        dynamodb = self.stack.client("dynamodb")
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=self.stack.physical_id("UserRegistrationTable"),
            FilterExpression="begins_with(PK, :user) AND SK = :profile",
            ExpressionAttributeValues={
                ":user": {"S": USER_KEY_PREFIX},
                ":profile": {"S": USER_SORT_KEY},
            },
        ):
            yield from page["Items"]

    def _to_target(self, message: dict[str, Any]) -> bool:
        target = _attribute(message, "TARGET_ARN")
        arn = target.split(":")
        if len(arn) < 6 or arn[2] != "sqs":
            self.say(f"    left in place: re-sending to {target} is not supported (SQS only)")
            return False
        if self.dry_run:
            self.say(f"    would re-send to {target}")
            return True
        url = self.sqs.get_queue_url(QueueName=arn[5], QueueOwnerAWSAccountId=arn[4])["QueueUrl"]
        self.sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
        self.say(f"    re-sent to {arn[5]}")
        return True


def as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it (source ARN, epoch-seconds creation time)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "eventSourceARN": stream_arn, "dynamodb": stream}


def table_record(item: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stand-in stream record for a table item: stable id per item version.

    Its sequence number is unique per item version, as a real one is per change: the pipeline
    tells records apart by it.
    """
    version = item.get("version", {}).get("N", "0")
    created = int(version) == 1
    stream: dict[str, Any] = {
        "Keys": {"PK": item["PK"], "SK": item["SK"]},
        "NewImage": item,
        "SequenceNumber": f"table-{item['PK']['S']}-version-{version}",
        "ApproximateCreationDateTime": _parse_time(item["updated_at"]["S"]).timestamp(),
    }
    if not created:
        stream["OldImage"] = {"PK": item["PK"], "SK": item["SK"]}  # every field counts as changed
    return {
        "eventName": "INSERT" if created else "MODIFY",
        "eventSourceARN": stream_arn,
        "dynamodb": stream,
    }


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def replay(
    stack: Stack, dry_run: bool, queue_filter: str | None, out: Any, wait_seconds: int = 1
) -> int:
    replayer = Replayer(stack, dry_run, out, wait_seconds)
    queues = [
        queue
        for queue in dead_letter_queues(stack)
        if queue_filter in (None, queue.logical_id, queue.name)
    ]
    if not queues:
        print(f"no dead-letter queue named {queue_filter!r}", file=out)
        return 2
    left = 0
    for queue in queues:
        done, kept = replayer.replay_queue(queue)
        verb = "would re-drive" if dry_run else "re-drove"
        print(f"{queue.logical_id}: {verb} {done}, {kept} left", file=out)
        left += kept
    return 1 if left else 0


def register(subparsers: Any) -> None:
    import sys

    parser = subparsers.add_parser("dlq", help="show and replay the stack's dead-letter queues")
    commands = parser.add_subparsers(dest="dlq_command", required=True)
    listing = commands.add_parser("list", help="every DLQ with its depth and message summaries")
    add_stack_arguments(listing)
    listing.set_defaults(run=lambda args: list_dead_letters(resolve_stack(args), sys.stdout))
    replaying = commands.add_parser("replay", help="re-drive DLQ messages (safe to run twice)")
    add_stack_arguments(replaying)
    replaying.add_argument("--dry-run", action="store_true", help="show, change nothing")
    replaying.add_argument("--queue", help="only this DLQ (logical id or queue name)")
    replaying.set_defaults(
        run=lambda args: replay(resolve_stack(args), args.dry_run, args.queue, sys.stdout)
    )
