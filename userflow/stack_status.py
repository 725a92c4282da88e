"""The state of a stack an operator looks at first (`userflow status`): the stack's alarms and
who they notify, every queue's depth (dead-letter queues marked, subscribers' DLQs outside the
stack included), the stream processor's iterator age, and the lifecycle events archived, published
and failed in the last hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from userflow.stack import Stack

STREAM_FUNCTION = "UserStreamProcessorFunction"
ARCHIVE = "UserEventsArchive"
ALARM_TOPIC = "AlarmTopic"
METRICS_NAMESPACE = "Userflow"
SERVICE = "userflow"  # POWERTOOLS_SERVICE_NAME in template.yaml
DESCRIBE_ALARMS_LIMIT = 100


@dataclass
class QueueDepth:
    logical_id: str
    """The stack's logical id, or the queue's name for a dead-letter queue outside the stack."""
    visible: int
    in_flight: int
    dead_letter: bool
    missing: bool = False
    """The stack's queue no longer exists (deleted by hand): nothing is delivered to it."""
    outside_stack: bool = False
    """A dead-letter queue tagged for this stack but not part of it (a subscriber's)."""


@dataclass
class StackStatus:
    target: str
    alarms_in_alarm: list[dict[str, str]] = field(default_factory=list)
    alarm_count: int = 0
    queues: list[QueueDepth] = field(default_factory=list)
    iterator_age_ms: float | None = None
    events_archived: int | None = None
    events_published_last_hour: float | None = None
    events_failed_last_hour: float | None = None
    alarm_subscribers: int | None = None
    """Confirmed subscriptions of the alarm topic (None: the stack has no such topic)."""
    unreadable_queues: list[str] = field(default_factory=list)
    """What discovery could not look at (queues' tags, the account's queue list): a dead-letter
    queue may hide there."""

    @property
    def attention(self) -> list[str]:
        """What needs the operator, one short reason each (empty: nothing)."""
        reasons = [f"alarm {alarm['name']} is in ALARM" for alarm in self.alarms_in_alarm]
        for queue in self.queues:
            if queue.missing:
                reasons.append(f"queue {queue.logical_id} is missing")
            elif queue.dead_letter and queue.visible + queue.in_flight:
                reasons.append(f"dead-letter queue {queue.logical_id} holds messages")
        if self.alarms_notify_nobody:
            reasons.append("the alarm topic has no confirmed subscriber")
        reasons += self.unreadable_queues
        return reasons

    @property
    def alarms_notify_nobody(self) -> bool:
        """Alarms exist but their topic reaches no one (the local stack has no alarms)."""
        return self.alarm_subscribers == 0 and self.alarm_count > 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)


def collect(stack: Stack, now: datetime | None = None) -> StackStatus:
    from userflow.dlq.discovery import discover
    from userflow.stack import describe_target

    now = now or datetime.now(UTC)
    cloudwatch = stack.client("cloudwatch")
    status = StackStatus(target=describe_target(stack))
    # The stack's own alarms that exist (the local stack records but does not create them).
    alarm_names = [stack.physical_id(name) for name in stack.of_type("AWS::CloudWatch::Alarm")]
    for start in range(0, len(alarm_names), DESCRIBE_ALARMS_LIMIT):
        names = alarm_names[start : start + DESCRIBE_ALARMS_LIMIT]
        for alarm in cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", []):
            status.alarm_count += 1
            if alarm["StateValue"] == "ALARM":
                status.alarms_in_alarm.append(
                    {"name": alarm["AlarmName"], "reason": alarm.get("StateReason", "")}
                )
    if ALARM_TOPIC in stack.resources:
        subscriptions = stack.client("sns").list_subscriptions_by_topic(
            TopicArn=stack.physical_id(ALARM_TOPIC)
        )["Subscriptions"]
        status.alarm_subscribers = sum(
            1 for sub in subscriptions if sub["SubscriptionArn"].startswith("arn:")
        )
    sqs = stack.client("sqs")
    found = discover(stack, sqs)
    status.unreadable_queues = found.unreadable
    dead_letters = {queue.logical_id for queue in found.queues}
    for logical_id in sorted(stack.of_type("AWS::SQS::Queue")):
        url = stack.physical_id(logical_id)
        status.queues.append(_queue_depth(sqs, url, logical_id, logical_id in dead_letters))
    for queue in found.queues:
        if queue.outside_stack:
            depth = _queue_depth(sqs, queue.url, queue.name, dead_letter=True)
            depth.outside_stack = True
            status.queues.append(depth)
    if STREAM_FUNCTION in stack.resources:
        status.iterator_age_ms = _latest(
            cloudwatch,
            "AWS/Lambda",
            "IteratorAge",
            [{"Name": "FunctionName", "Value": stack.physical_id(STREAM_FUNCTION)}],
            now - timedelta(minutes=15),
            now,
            "Maximum",
        )
    if ARCHIVE in stack.resources:
        archive = stack.client("events").describe_archive(ArchiveName=_archive_name(stack))
        status.events_archived = int(archive.get("EventCount", 0))
    service = [{"Name": "service", "Value": SERVICE}]
    hour_ago = now - timedelta(hours=1)
    status.events_published_last_hour = _latest(
        cloudwatch, METRICS_NAMESPACE, "EventsPublished", service, hour_ago, now, "Sum", 3600
    )
    status.events_failed_last_hour = _latest(
        cloudwatch, METRICS_NAMESPACE, "EventsFailed", service, hour_ago, now, "Sum", 3600
    )
    return status


def _queue_depth(sqs: Any, url: str, logical_id: str, dead_letter: bool) -> QueueDepth:
    from botocore.exceptions import ClientError

    from userflow.dlq.discovery import is_missing_queue

    try:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
    except ClientError as error:
        if not is_missing_queue(error):
            raise
        return QueueDepth(logical_id, 0, 0, dead_letter, missing=True)
    return QueueDepth(
        logical_id,
        int(attributes.get("ApproximateNumberOfMessages", 0)),
        int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        dead_letter,
    )


def _archive_name(stack: Stack) -> str:
    # CloudFormation's Ref of an archive is its name; an ARN (some emulations) ends with it.
    return stack.physical_id(ARCHIVE).rsplit("/", 1)[-1]


def _latest(  # noqa: PLR0917 - one metric query, spelled out
    cloudwatch: Any,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, str]],
    start: datetime,
    end: datetime,
    statistic: str,
    period: int = 60,
) -> float | None:
    """The most recent datapoint of a metric in the window, or None when there is none."""
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=dimensions,
        StartTime=start,
        EndTime=end,
        Period=period,
        Statistics=[statistic],
    ).get("Datapoints", [])
    if not points:
        return None
    return float(max(points, key=lambda point: point["Timestamp"])[statistic])
