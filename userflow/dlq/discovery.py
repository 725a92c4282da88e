"""Finds a stack's dead-letter queues from AWS itself, never from a source tree.

A dead-letter queue of a stack carries the tag ``userflow:dead-letter`` whose value is the stack's
name (and ``userflow:purpose``, what it holds): template.yaml tags its own DLQs so, and a
subscriber tags the DLQ of its own rule the same way, in whatever stack or account tooling it
creates it. `userflow dlq` and `userflow status` find both: the stack's queues by its resources,
every other queue of the account and region by listing them and reading their tags. A stack's own
queue tagged before the value named the stack (its value was the purpose) is still found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from userflow.stack import Stack

DEAD_LETTER_TAG = "userflow:dead-letter"
PURPOSE_TAG = "userflow:purpose"
QUEUE_TYPE = "AWS::SQS::Queue"
OUTSIDE_PURPOSE = "dead-letter queue outside the stack (tagged for it)"


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str | None
    """The stack's logical id; None for a queue outside the stack (a subscriber's)."""
    url: str
    purpose: str

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        """How output names the queue: its logical id, or its name when outside the stack."""
        return self.logical_id or self.name

    @property
    def outside_stack(self) -> bool:
        return self.logical_id is None

    def matches(self, wanted: str) -> bool:
        return wanted in (self.logical_id, self.name, self.url)


@dataclass
class Discovery:
    """The dead-letter queues found, and what could not be looked at (each a phrase naming it,
    so that an operator knows a DLQ might hide there)."""

    queues: list[DeadLetterQueue] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def dead_letter_queues(stack: Stack, sqs: Any) -> list[DeadLetterQueue]:
    """The stack's dead-letter queues, inside the stack first (by logical id), then outside."""
    return discover(stack, sqs).queues


def discover(stack: Stack, sqs: Any) -> Discovery:
    found = Discovery()
    inside: set[str] = set()
    for logical_id in sorted(stack.of_type(QUEUE_TYPE)):
        url = stack.physical_id(logical_id)
        inside.add(url)
        tags = _tags(sqs, url, found)
        if tags is not None and DEAD_LETTER_TAG in tags:
            found.queues.append(DeadLetterQueue(logical_id, url, _purpose(stack, tags)))
    outside = []
    for url in _all_queue_urls(sqs, found):
        if url in inside:
            continue
        tags = _tags(sqs, url, found)
        if tags is not None and tags.get(DEAD_LETTER_TAG) == stack.name:
            outside.append(DeadLetterQueue(None, url, tags.get(PURPOSE_TAG) or OUTSIDE_PURPOSE))
    found.queues += sorted(outside, key=lambda queue: queue.name)
    return found


def _purpose(stack: Stack, tags: dict[str, str]) -> str:
    value = tags[DEAD_LETTER_TAG]
    return tags.get(PURPOSE_TAG) or (value if value != stack.name else "dead-letter queue")


def _tags(sqs: Any, url: str, found: Discovery) -> dict[str, str] | None:
    """A queue's tags; None for a queue deleted meanwhile (passed over: `userflow status` names
    the stack's own as missing) or whose tags this caller may not read (named in ``found``)."""
    try:
        tags: dict[str, str] = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    except ClientError as error:
        if not is_missing_queue(error):
            code = error.response.get("Error", {}).get("Code", "?")
            found.unreadable.append(f"the tags of {url} cannot be read ({code})")
        return None
    return tags


def _all_queue_urls(sqs: Any, found: Discovery) -> Iterator[str]:
    """Every queue of the account and region; none, named in ``found``, if they cannot be
    listed (the stack's own DLQs are still found)."""
    try:
        for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000}):
            yield from page.get("QueueUrls", [])
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        found.unreadable.append(f"the account's queues cannot be listed ({code})")


def is_missing_queue(error: ClientError) -> bool:
    """SQS's answer for a queue that does not exist (its query and JSON protocols' codes)."""
    code = error.response.get("Error", {}).get("Code", "")
    return code in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
