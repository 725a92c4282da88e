"""Issue 28 on a running `userflow local`, as an operator and a subscriber meet it on call: a
subscriber's own DLQ outside the stack is found and re-driven; a table-fallback replay repeats the
event ids already published; garbage in one queue stops nothing; --limit counts are exact;
flags that would point at nothing are refused; an archive replay re-feeds only the rules asked."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pipeline.test_subscribers_and_replays import Subscriber, _register
from tests.support.local_stack import LocalStack, start_local_stack
from userflow.dlq.discovery import DEAD_LETTER_TAG, PURPOSE_TAG
from userflow.event_subscription import queue_policy_for_rule

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose dead-letter queues no other module touches."""
    with start_local_stack(tmp_path_factory.mktemp("operators")) as local:
        yield local


def _outside_dlq(subscriber: Subscriber, name: str) -> tuple[str, str]:
    """A subscriber's own DLQ, made outside the stack and tagged for it as the README says;
    EventBridge may send to it. Its URL and ARN."""
    url = subscriber.sqs.create_queue(
        QueueName=name,
        tags={DEAD_LETTER_TAG: subscriber.stack.state["stack_name"], PURPOSE_TAG: "e2e's DLQ"},
    )["QueueUrl"]
    arn = subscriber.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ],
    }
    subscriber.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def _depth(subscriber: Subscriber, url: str) -> int:
    attributes = subscriber.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _wait_for_depth(subscriber: Subscriber, url: str, depth: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _depth(subscriber, url) < depth and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _depth(subscriber, url) == depth


def _undelivered(subscriber: Subscriber, dlq_url: str, count: int) -> None:
    """Events EventBridge gave up on for the subscriber's queue, as its DLQ holds them."""
    target = subscriber.sqs.get_queue_attributes(
        QueueUrl=subscriber.url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for number in range(count):
        event = {
            "detail-type": "UserCreated",
            "detail": {"event_id": f"e2e-{number}", "user": {"id": "x"}},
        }
        subscriber.sqs.send_message(
            QueueUrl=dlq_url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "TARGET_ARN": {"DataType": "String", "StringValue": target},
                "ERROR_CODE": {"DataType": "String", "StringValue": "SQS.AccessDenied"},
            },
        )


def test_given_a_subscriber_dlq_outside_the_stack_when_listed_and_replayed_then_recovered(
    stack: LocalStack,
) -> None:
    subscriber = Subscriber(stack)
    name = f"e2e-own-dlq-{uuid.uuid4().hex[:8]}"
    dlq_url, dlq_arn = _outside_dlq(subscriber, name)
    # The subscriber's rule, delivering to a queue EventBridge may not send to (yet): what fails
    # is retried, then dead-lettered to the subscriber's own DLQ.
    blocked = subscriber.sqs.create_queue(QueueName=f"{name}-target")["QueueUrl"]
    blocked_arn = subscriber.sqs.get_queue_attributes(
        QueueUrl=blocked, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events = subscriber.client("events")
    bus = stack.state["resources"]["UserEventsBus"]["physical_id"]
    rule_arn = events.put_rule(
        Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["userflow.users"]})
    )["RuleArn"]
    events.put_targets(
        Rule=name,
        EventBusName=bus,
        Targets=[
            {
                "Id": "queue",
                "Arn": blocked_arn,
                "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    user_id, _ = _register(stack, "Dead Lettered")
    _wait_for_depth(subscriber, dlq_url, 1)
    policy = json.dumps(queue_policy_for_rule(blocked_arn, rule_arn))
    subscriber.sqs.set_queue_attributes(QueueUrl=blocked, Attributes={"Policy": policy})

    listing = stack.run("userflow.cli", "dlq", "list", "--json")
    status = stack.run("userflow.cli", "status", "--json")
    replay = stack.run("userflow.cli", "dlq", "replay", "--queue", name)
    message = subscriber.sqs.receive_message(QueueUrl=blocked, WaitTimeSeconds=5)["Messages"][0]
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=bus)

    [found] = [q for q in json.loads(listing.stdout)["queues"] if q["name"] == name]
    assert listing.returncode == 1  # a dead letter is waiting
    assert found["outside_stack"] is True
    assert found["purpose"] == "e2e's DLQ"
    assert found["messages"][0]["kind"] == "undelivered-event"
    [depth] = [q for q in json.loads(status.stdout)["queues"] if q["logical_id"] == name]
    assert depth == {**depth, "dead_letter": True, "outside_stack": True, "visible": 1}
    assert f"dead-letter queue {name} holds messages" in json.loads(status.stdout)["attention"]
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"{name}: re-drove 1, 0 left" in replay.stdout
    recovered = json.loads(message["Body"])
    assert (recovered["detail-type"], recovered["detail"]["user"]["id"]) == ("UserCreated", user_id)
    assert _depth(subscriber, dlq_url) == 0


def _lost_batch(stack: LocalStack, since: datetime) -> dict[str, Any]:
    """Lambda's on-failure record of a batch whose stream is gone (deleted, or past 24 h): the
    replay can only rebuild the users changed in its window from the table."""
    table = stack.state["resources"]["UserRegistrationTable"]
    gone = str(table["stream_arn"]).replace(table["physical_id"], "e2e-deleted-table")
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001700000000000-e2e00000",
            "startSequenceNumber": "100000000000000000001",
            "endSequenceNumber": "100000000000000000002",
            "approximateArrivalOfFirstRecord": since.isoformat(),
            "approximateArrivalOfLastRecord": datetime.now(UTC).isoformat(),
            "batchSize": 2,
            "streamArn": gone,
        },
    }


def test_given_published_changes_when_the_table_fallback_rebuilds_them_then_same_event_ids(
    stack: LocalStack,
) -> None:
    subscriber = Subscriber(stack)
    since = datetime.now(UTC) - timedelta(seconds=5)
    user_id, bearer = _register(stack, "Before")
    renamed = stack.request(
        "PATCH", f"/users/{user_id}", json_body={"name": "After"}, headers=bearer
    )
    assert renamed.status == 200
    subscriber.wait_for(lambda got: subscriber.kinds(user_id) == ["UserCreated", "UserUpdated"])
    [published] = [e for e in subscriber.received if e["detail-type"] == "UserUpdated"]
    failure_queue = stack.state["resources"]["UserStreamFailureQueue"]["physical_id"]
    subscriber.sqs.send_message(
        QueueUrl=failure_queue, MessageBody=json.dumps(_lost_batch(stack, since))
    )

    replay = stack.run("userflow.cli", "dlq", "replay", "--queue", "UserStreamFailureQueue")
    subscriber.wait_for(lambda got: len(subscriber.kinds(user_id)) >= 3)

    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "falling back to the table" in replay.stdout
    [rebuilt] = [e for e in subscriber.received[2:] if e["detail"]["user"]["id"] == user_id]
    assert rebuilt["detail"]["reconstructed"] is True
    assert rebuilt["detail"]["event_id"] == published["detail"]["event_id"]
    assert rebuilt["detail"]["user"]["version"] == published["detail"]["user"]["version"]
    # What changed is unknown to the table: nothing is claimed (a rule on changed_fields stays
    # quiet), where the original said exactly what changed.
    assert published["detail"]["changed_fields"] == ["name"]
    assert "changed_fields" not in rebuilt["detail"]
    assert "previous" not in rebuilt["detail"]


def test_given_garbage_in_one_queue_when_listed_and_replayed_then_the_others_are_done(
    stack: LocalStack, tmp_path: Path
) -> None:
    subscriber = Subscriber(stack)
    poison_queue = stack.state["resources"]["UserStreamPoisonQueue"]["physical_id"]
    garbage = subscriber.sqs.send_message(
        QueueUrl=poison_queue,
        MessageBody=json.dumps({"kind": "userflow.poison-record", "record": [1, 2]}),
    )["MessageId"]
    name = f"e2e-healthy-dlq-{uuid.uuid4().hex[:8]}"
    healthy, _ = _outside_dlq(subscriber, name)
    _undelivered(subscriber, healthy, 1)

    listing = stack.run("userflow.cli", "dlq", "list")
    replay = stack.run("userflow.cli", "dlq", "replay")
    shown = stack.run("userflow.cli", "dlq", "show", "UserStreamPoisonQueue", garbage, "--json")
    saved = tmp_path / "garbage.json"
    refused = stack.run("userflow.cli", "dlq", "drop", "UserStreamPoisonQueue", garbage)
    dropped = stack.run(
        "userflow.cli", "dlq", "drop", "UserStreamPoisonQueue", garbage,
        "--yes", "--output", str(saved),
    )  # fmt: skip
    subscriber.wait_for(lambda got: len(got) >= 1, timeout=5)

    for run in (listing, replay, shown, refused, dropped):
        assert "Traceback" not in run.stderr, run.stderr
    assert listing.returncode == 1
    assert f"- {garbage}: cannot be read: a poison record this tool cannot use" in listing.stdout
    assert f"{name} ({name}, outside the stack): 1 message(s)" in listing.stdout
    assert replay.returncode == 1
    assert f"UserStreamPoisonQueue: message {garbage}: cannot be read" in replay.stdout
    assert f"{name}: re-drove 1, 0 left" in replay.stdout
    assert [e["detail"]["event_id"] for e in subscriber.received] == ["e2e-0"]
    assert json.loads(shown.stdout)["kind"] == "unreadable"
    assert refused.returncode == 2  # no terminal to ask, and no --yes
    assert "needs --yes" in refused.stderr
    assert dropped.returncode == 0, dropped.stderr
    assert json.loads(json.loads(saved.read_text())["body"]) == {
        "kind": "userflow.poison-record",
        "record": [1, 2],
    }
    after = stack.run("userflow.cli", "dlq", "show", "UserStreamPoisonQueue", garbage)
    assert after.returncode == 2
    assert f"no message {garbage}" in after.stderr


def test_given_a_limit_when_replayed_then_every_count_is_exact(stack: LocalStack) -> None:
    subscriber = Subscriber(stack)
    name = f"e2e-limit-dlq-{uuid.uuid4().hex[:8]}"
    dlq, _ = _outside_dlq(subscriber, name)
    _undelivered(subscriber, dlq, 3)

    def replay(*flags: str) -> tuple[int, dict[str, Any]]:
        run = stack.run("userflow.cli", "dlq", "replay", "--queue", name, "--json", *flags)
        assert "Traceback" not in run.stderr, run.stderr
        return run.returncode, json.loads(run.stdout)

    dry = replay("--dry-run", "--limit", "1")
    limited = replay("--limit", "2")
    rest = replay()

    assert dry[0] == 1
    assert {k: dry[1][k] for k in ("redriven", "left", "not_considered")} == {
        "redriven": 1,
        "left": 2,
        "not_considered": 2,
    }
    assert limited[0] == 1
    assert {k: limited[1][k] for k in ("redriven", "left", "not_considered")} == {
        "redriven": 2,
        "left": 1,
        "not_considered": 1,
    }
    assert rest[0] == 0
    assert (rest[1]["redriven"], rest[1]["left"]) == (1, 0)
    subscriber.wait_for(lambda got: len(got) >= 3, timeout=5)
    assert sorted(e["detail"]["event_id"] for e in subscriber.received) == [
        "e2e-0",
        "e2e-1",
        "e2e-2",
    ]


def test_given_a_region_other_than_the_local_stacks_when_a_command_runs_then_it_is_refused(
    stack: LocalStack,
) -> None:
    elsewhere = stack.run("userflow.cli", "status", "--region", "eu-west-1")
    here = stack.run("userflow.cli", "status", "--region", stack.state["region"])

    assert elsewhere.returncode == 2
    assert f"runs in region {stack.state['region']}" in elsewhere.stderr
    assert "--stack-name" in elsewhere.stderr
    assert here.returncode == 0, here.stdout + here.stderr
    assert f"region {stack.state['region']})" in here.stderr.splitlines()[0]


def test_given_an_archive_replay_with_filter_arns_when_run_then_only_those_rules_are_fed(
    stack: LocalStack,
) -> None:
    asked, other = Subscriber(stack), Subscriber(stack)
    user_id, _ = _register(stack, "Archived")
    for subscriber in (asked, other):
        subscriber.wait_for(lambda got: any(e["detail"]["user"]["id"] == user_id for e in got))
    events = asked.client("events")
    bus = stack.state["resources"]["UserEventsBus"]
    archive = stack.state["resources"]["UserEventsArchive"]["physical_id"].rsplit("/", 1)[-1]
    rule_arn = events.list_rules(
        EventBusName=bus["physical_id"], NamePrefix=asked.url.rsplit("/", 1)[-1]
    )["Rules"][0]["Arn"]
    archive_arn = events.describe_archive(ArchiveName=archive)["ArchiveArn"]

    events.start_replay(
        ReplayName=f"e2e-{uuid.uuid4().hex[:8]}",
        EventSourceArn=archive_arn,
        EventStartTime=datetime.now(UTC) - timedelta(hours=1),
        EventEndTime=datetime.now(UTC),
        Destination={"Arn": bus["arn"], "FilterArns": [rule_arn]},
    )
    asked.wait_for(lambda got: any("replay-name" in e for e in got), timeout=10)
    other.wait_for(lambda got: False, timeout=3)

    assert any("replay-name" in e and e["detail"]["user"]["id"] == user_id for e in asked.received)
    assert not any("replay-name" in e for e in other.received)
