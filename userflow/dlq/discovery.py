"""Finds a stack's dead-letter queues from the stack itself, never from a source tree.

Every DLQ in template.yaml carries the tag ``userflow:dead-letter`` (its purpose); CloudFormation
puts it on the queue on AWS and the local runtime does the same, so an installed `userflow` finds
the queues of any stack by listing its queues and reading their tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    """The stack's queues tagged as dead-letter queues, in logical-id order."""
    queues = []
    for logical_id in sorted(stack.of_type(QUEUE_TYPE)):
        url = stack.physical_id(logical_id)
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        if DEAD_LETTER_TAG in tags:
            queues.append(DeadLetterQueue(logical_id, url, tags[DEAD_LETTER_TAG]))
    return queues
