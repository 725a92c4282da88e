"""Finds a stack's dead-letter queues from the stack itself, never from a source tree.

Every DLQ in template.yaml carries the tag ``userflow:dead-letter`` (its purpose); CloudFormation
puts it on the queue on AWS and the local runtime does the same, so an installed `userflow` finds
the queues of any stack by listing its queues and reading their tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from userflow.stack import Stack

DEAD_LETTER_TAG = "userflow:dead-letter"
QUEUE_TYPE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str
    url: str
    purpose: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def matches(self, wanted: str) -> bool:
        return wanted in (self.logical_id, self.name)


def dead_letter_queues(stack: Stack, sqs: Any) -> list[DeadLetterQueue]:
    """The stack's queues tagged as dead-letter queues, in logical-id order. A queue deleted
    from the stack (a subscriber's, say) is passed over: `userflow status` names it."""
    queues = []
    for logical_id in sorted(stack.of_type(QUEUE_TYPE)):
        url = stack.physical_id(logical_id)
        try:
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        except ClientError as error:
            if is_missing_queue(error):
                continue
            raise
        if DEAD_LETTER_TAG in tags:
            queues.append(DeadLetterQueue(logical_id, url, tags[DEAD_LETTER_TAG]))
    return queues


def is_missing_queue(error: ClientError) -> bool:
    """SQS's answer for a queue that does not exist (its query and JSON protocols' codes)."""
    code = error.response.get("Error", {}).get("Code", "")
    return code in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
