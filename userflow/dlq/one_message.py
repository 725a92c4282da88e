"""One dead-letter message found by its id, to look at (`dlq show`) or drop (`dlq drop`).

SQS cannot read a message by id: the queue's messages are taken (hidden for a minute) until it is
found, and every one taken is given back as soon as the command ends, Ctrl-C included. A message
is dropped only after its body and attributes were written to a file that did not exist before.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from userflow.dlq.dead_letters import KINDS
from userflow.dlq.discovery import DeadLetterQueue
from userflow.dlq.messages import read_message
from userflow.dlq.queue import QueueIo

# Long enough to look at or drop one message; everything taken is given back at once anyway.
FIND_VISIBILITY_S = 60


class HeldMessages:
    """Messages taken from a queue while one is looked for; all given back on exit, except one
    dropped meanwhile."""

    def __init__(self, io: QueueIo) -> None:
        self.io = io
        self.taken: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> HeldMessages:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.io.give_back(list(self.taken.values()))

    def find(self, message_id: str) -> dict[str, Any] | None:
        """The message, or None when the queue holds no visible message with that id."""
        while message_id not in self.taken:
            batch = self.io.receive(FIND_VISIBILITY_S, wait=1, count=10)
            if not batch:
                return None
            self.taken.update((message["MessageId"], message) for message in batch)
        return self.taken[message_id]

    def drop(self, message: dict[str, Any]) -> None:
        self.io.delete(message)
        del self.taken[message["MessageId"]]


def message_document(queue: DeadLetterQueue, message: dict[str, Any]) -> dict[str, Any]:
    """Everything known of a message, as `dlq show --json` prints it and `dlq drop` saves it."""
    letter = read_message(message)
    attributes = message.get("Attributes", {})
    return {
        "queue": queue.label,
        "queue_url": queue.url,
        "message_id": message["MessageId"],
        "sent_at": sent_at(message),
        "receive_count": int(attributes.get("ApproximateReceiveCount", 0)),
        "kind": KINDS[type(letter)],
        "summary": letter.describe(),
        "message_attributes": {
            name: value.get("StringValue", value.get("BinaryValue"))
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "body": message.get("Body", ""),
    }


def sent_at(message: dict[str, Any]) -> str | None:
    sent_ms = message.get("Attributes", {}).get("SentTimestamp")
    if sent_ms is None:
        return None
    moment = datetime.fromtimestamp(int(sent_ms) / 1000, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def render(document: dict[str, Any]) -> str:
    """``dlq show`` for people: the summary, then the body (pretty when it is JSON)."""
    lines = [
        f"message {document['message_id']} in {document['queue']} ({document['queue_url']})",
        f"sent at {document['sent_at'] or '?'}, received {document['receive_count']} time(s)",
        f"{document['kind']}: {document['summary']}",
    ]
    lines += [
        f"attribute {name}: {value}" for name, value in document["message_attributes"].items()
    ]
    try:
        body = json.dumps(json.loads(document["body"]), indent=2, ensure_ascii=False)
    except ValueError:
        body = document["body"]
    return "\n".join([*lines, "body:", body])


def default_save_path(queue: DeadLetterQueue, message_id: str) -> Path:
    return Path(f"userflow-dropped-{queue.name}-{message_id}.json")


def save(document: dict[str, Any], path: Path) -> None:
    """Written and flushed to disk before the message may go; never over an existing file."""
    with path.open("x", encoding="utf-8") as file:
        json.dump(document, file, indent=2, ensure_ascii=False)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
