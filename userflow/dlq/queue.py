"""SQS calls on one dead-letter queue: peek, take, give back, delete, replace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Long enough for one message's re-drive with its retries (messages are taken one at a time, so
# the clock runs for the message being re-driven only); whatever is not done is given back at
# once when the queue's run ends, normally or not.
TAKE_VISIBILITY_S = 300


@dataclass(frozen=True)
class Depth:
    visible: int
    in_flight: int


@dataclass
class QueueIo:
    sqs: Any
    url: str

    def depth(self) -> Depth:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return Depth(
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def receive(self, visibility: int, wait: int = 0, count: int = 10) -> list[dict[str, Any]]:
        """Up to ``count`` messages; ``visibility`` 0 peeks (they stay where they are)."""
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=count,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def delete(self, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def give_back(self, messages: list[dict[str, Any]]) -> None:
        """Visible again now, for the next run or another consumer."""
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

    def replace(self, message: dict[str, Any], body: str) -> str:
        """Sends what is left of ``message`` (its attributes kept), then deletes it: progress
        survives the run. The id of the new message is returned."""
        attributes = {
            name: {key: value for key, value in attribute.items() if key in _ATTRIBUTE_FIELDS}
            for name, attribute in message.get("MessageAttributes", {}).items()
        }
        sent = self.sqs.send_message(
            QueueUrl=self.url, MessageBody=body, MessageAttributes=attributes
        )
        self.delete(message)
        return str(sent["MessageId"])


_ATTRIBUTE_FIELDS = ("DataType", "StringValue", "BinaryValue")
