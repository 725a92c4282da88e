"""Re-drives one dead-letter message of each kind; a dry run makes the same checks, sends nothing.

Records go through the processor's own pipeline, retried where that may help
(``userflow/dlq/republish.py``); what still fails is named and, for a stream batch, the message is
narrowed to the records left, so a later run never re-sends what was re-driven.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.eventbridge_publisher import EventBridgePublisher
from adapters.sqs_poison_queue import SqsPoisonQueue
from adapters.stream_records import events_of_record, is_user_record_keys, table_change
from adapters.user_items import user_from_item, user_of_keys
from domain.event_pipeline import LifecyclePipeline, sequence_number
from domain.events import PoisonRecord
from userflow.dlq.dead_letters import (
    DeadLetter,
    FailedEvent,
    PoisonMessage,
    StreamBatch,
    UndeliveredEvent,
    Unrecognised,
    WebhookDelivery,
)
from userflow.dlq.mail_replay import MailReplayer, is_mail_batch
from userflow.dlq.republish import RecordPublisher, user_of
from userflow.dlq.stream import StreamRangeIncomplete, batch_records
from userflow.dlq.table_fallback import Window, reconstructed_records, stand_in_record
from userflow.dlq.webhook_replay import WebhookRedelivery, back_to_source
from userflow.stack import Stack

# What DynamoDB Streams answers for records past its 24 h retention, or a stream since deleted:
# only then are a batch's records gone. Any other error (throttling, access denied, the network)
# says nothing about them, and the message stays for a later run.
RECORDS_GONE_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})


@dataclass
class Result:
    """``done``: the message can go. ``rest``: a narrowed body to keep instead (progress made).
    ``problems``: what stays and why, one line each."""

    done: bool
    rest: str | None = None
    problems: list[str] = field(default_factory=list)


def _image_version(record: Mapping[str, Any]) -> int | None:
    """The item version a stream record carries (its new image's, or old's for a removal)."""
    stream = record.get("dynamodb", {})
    image = stream.get("NewImage") or stream.get("OldImage") or {}
    try:
        return int(image["version"]["N"])
    except (KeyError, TypeError, ValueError):
        return None


class Redriver:
    def __init__(
        self,
        stack: Stack,
        dry_run: bool,
        say: Callable[[str], None],
        republisher: RecordPublisher | None = None,
    ) -> None:
        """``republisher``: how records are re-published (default: with its retries)."""
        self.stack = stack
        self.dry_run = dry_run
        self.say = say
        self.republisher = republisher or RecordPublisher(dry_run, say)
        self.sqs = stack.client("sqs")
        publisher = EventBridgePublisher(
            stack.physical_id("UserEventsBus"), events_client=stack.client("events")
        )
        poison_sink = SqsPoisonQueue(stack.physical_id("UserStreamPoisonQueue"), self.sqs)
        self.pipeline = LifecyclePipeline(publisher, table_change, poison_sink)
        # A poison message's record has no other queue to go to: it stays in its own message.
        self.pipeline_without_sink = LifecyclePipeline(publisher, table_change)
        self.webhooks = WebhookRedelivery(stack, dry_run, say, self.sqs)

    def redrive(self, letter: DeadLetter, dead_letter_url: str = "") -> Result:
        """``dead_letter_url``: the queue the letter was taken from."""
        match letter:
            case StreamBatch():
                return self._stream_batch(letter)
            case PoisonMessage():
                return self._poison(letter)
            case UndeliveredEvent():
                return self._undelivered(letter)
            case WebhookDelivery():
                problem = self.webhooks.redrive(letter)
                return Result(problem is None, problems=[problem] if problem else [])
            case FailedEvent():
                problem = back_to_source(self.sqs, dead_letter_url, letter, self.dry_run, self.say)
                return Result(problem is None, problems=[problem] if problem else [])
            case Unrecognised():
                return Result(
                    False,
                    problems=[
                        f"cannot be read: {letter.why} (look with `userflow dlq show`, remove"
                        " with `userflow dlq drop`)"
                    ],
                )

    # ------------------------------------------------------------------ stream batches
    def _read_batch(self, letter: StreamBatch) -> list[dict[str, Any]] | Result | None:
        """The batch's records; None when they are gone from the stream; or the Result that
        keeps the message when the stream could not be read for another reason."""
        try:
            return batch_records(self.stack.client("dynamodbstreams"), letter.info, letter.pending)
        except StreamRangeIncomplete as error:
            self.say(f"    stream records no longer readable ({error})")
            return None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in RECORDS_GONE_CODES:
                self.say(f"    stream records no longer readable ({code})")
                return None
            problem = f"the stream could not be read ({code or 'ClientError'}: {error})"
        except BotoCoreError as error:
            problem = f"the stream could not be read ({type(error).__name__}: {error})"
        self.say(f"    {problem}; kept for a later run")
        return Result(False, problems=[problem])

    def _stream_batch(self, letter: StreamBatch) -> Result:
        if is_mail_batch(self.stack, letter.body):
            return self._mail_batch(letter)
        records = self._read_batch(letter)
        if records is None:
            return self._from_table(letter)
        if isinstance(records, Result):
            return records
        self.say(f"    re-read {len(records)} record(s) from the stream")
        result, failed = self._records(records, self.pipeline)
        if failed and len(failed) < len(records):
            users = [user_of(r) for r in records if sequence_number(r) in failed]
            result.rest = letter.narrowed(failed, users)
        return result

    def _mail_batch(self, letter: StreamBatch) -> Result:
        """Mail requests are re-read from the stream; past its 24 h retention every link in them
        has expired (reset: 1 h, verification: 24 h), so there is nothing left worth sending.
        What SES accepted is not sent again: the message is narrowed to what it refused."""
        records = self._read_batch(letter)
        if records is None:
            self.say("    their links have expired, nothing is sent (users can ask for a new link)")
            return Result(True)
        if isinstance(records, Result):
            return records
        failed = MailReplayer(self.stack, self.dry_run, self.say).replay(records)
        if not failed:
            return Result(True)
        rest = letter.narrowed(failed) if len(failed) < len(records) else None
        return Result(False, rest=rest, problems=["messages SES still refused (named above)"])

    def _from_table(self, letter: StreamBatch) -> Result:
        """Users changed in the batch's window (only those still pending after an earlier
        partial run), re-published as they are now; what fails stays, narrowed to its users."""
        info, pending = letter.info, letter.pending_users
        window = Window.of_batch(info)
        records = [
            record
            for record in reconstructed_records(
                self.stack.client("dynamodb"),
                self.stack.physical_id("UserRegistrationTable"),
                window,
                info["streamArn"],
            )
            if pending is None or user_of(record) in pending
        ]
        self.say(
            f"    falling back to the table: {len(records)} user(s) changed between {window} or"
            " since are re-published as they are now (marked reconstructed); deletions in that"
            " window cannot be recovered"
        )
        result, failed = self._records(records, self.pipeline)
        if failed and len(failed) < len(records):
            result.rest = letter.for_users(
                [user_of(r) for r in records if sequence_number(r) in failed]
            )
        return result

    def _records(
        self, records: Sequence[Mapping[str, Any]], pipeline: LifecyclePipeline
    ) -> tuple[Result, list[str]]:
        """Publishes (or, dry, maps) the records; the result and the sequence numbers left."""
        published = self.republisher.publish(records, pipeline)
        return Result(not published.left, problems=published.problems), published.left

    # ------------------------------------------------------------------ poison records
    def _poison(self, letter: PoisonMessage) -> Result:
        try:
            events_of_record(letter.record)
        except PoisonRecord as error:
            return self._still_poison(letter, str(error))
        except Exception as error:  # the mapper's bug is still there
            return self._still_poison(letter, f"unexpected {type(error).__name__}: {error}")
        return self._records([letter.record], self.pipeline_without_sink)[0]

    def _still_poison(self, letter: PoisonMessage, reason: str) -> Result:
        """The record cannot map; the item as it is now decides. If it maps at a later version,
        it was repaired and the repair went through the stream: the record is obsolete. If it
        maps at the same version (or the record's is unknown), what failed was the mapping, not
        the data: the item is published as it is now (marked reconstructed)."""
        user = user_of_keys(letter.keys)
        if not is_user_record_keys(letter.keys):
            return Result(False, problems=[f"record of {user}: still poison ({reason})"])
        found = self.stack.client("dynamodb").get_item(
            TableName=self.stack.physical_id("UserRegistrationTable"),
            Key=letter.keys,
            ConsistentRead=True,
        )
        if "Item" not in found:
            state = "the item is gone; `userflow dlq drop` it once nothing is left to publish"
            return Result(False, problems=[f"user {user}: still poison ({reason}); {state}"])
        stand_in = stand_in_record(found["Item"], letter.record.get("eventSourceARN", ""))
        try:
            events_of_record(stand_in)
        except Exception as error:  # any failure to map: the item is no better than the record
            problem = f"user {user}: still poison ({reason}); the item is still invalid: {error}"
            return Result(False, problems=[problem.splitlines()[0]])
        current = user_from_item(found["Item"]).version
        poisoned = _image_version(letter.record)
        if poisoned is not None and current > poisoned:
            verb = "would drop" if self.dry_run else "dropped"
            self.say(
                f"    the item was repaired (now version {current}); its repair is published"
                f" through the stream, so this record is obsolete: {verb}"
            )
            return Result(True)
        self.say(f"    the item maps as it is now (version {current}): re-published from the table")
        return self._records([stand_in], self.pipeline_without_sink)[0]

    # ------------------------------------------------------------------ undelivered events
    def _undelivered(self, letter: UndeliveredEvent) -> Result:
        arn = letter.target_arn.split(":")
        if len(arn) < 6 or arn[2] != "sqs":
            return Result(False, problems=[f"re-sending to {letter.target_arn} is not supported"])
        try:
            url = self.sqs.get_queue_url(QueueName=arn[5], QueueOwnerAWSAccountId=arn[4])[
                "QueueUrl"
            ]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            return Result(False, problems=[f"target {arn[5]} cannot be reached ({code})"])
        if self.dry_run:
            self.say(f"    would re-send to {arn[5]}")
            return Result(True)
        self.sqs.send_message(QueueUrl=url, MessageBody=letter.body)
        self.say(f"    re-sent to {arn[5]}")
        return Result(True)
