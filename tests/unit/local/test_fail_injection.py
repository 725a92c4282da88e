"""`--fail-rate putevents=R` fails PutEvents entries the way EventBridge reports failures."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from samlocal.aws_endpoint.server import MotoServer
from samlocal.faults.injector import FaultInjector
from samlocal.faults.rates import FailRates, format_fail_rates, parse_fail_rates


@pytest.fixture
def failing_moto() -> Iterator[str]:
    server = MotoServer(0, FailRates({"putevents": 0.5}), seed=7)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _subscribed_queue(endpoint: str) -> tuple[Any, Any, str]:
    events = boto3.client("events", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    queue_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    rule_arn = events.put_rule(Name="all", EventPattern=json.dumps({"source": ["test"]}))["RuleArn"]
    arn = "arn:aws:sqs:us-east-1:123456789012:subscriber"
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps({"Statement": [allow]})}
    )
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
    return events, sqs, queue_url


def test_given_a_fail_rate_when_putting_events_then_failed_entries_are_reported_in_order(
    failing_moto: str,
) -> None:
    events, sqs, queue_url = _subscribed_queue(failing_moto)
    entries = [
        {"Source": "test", "DetailType": "T", "Detail": json.dumps({"i": i})} for i in range(10)
    ]

    response = events.put_events(Entries=entries)

    results = response["Entries"]
    failed = [i for i, entry in enumerate(results) if "ErrorCode" in entry]
    assert len(results) == 10
    assert 0 < len(failed) < 10
    assert response["FailedEntryCount"] == len(failed)
    assert all(results[i]["ErrorCode"] == "InternalFailure" for i in failed)
    assert all("EventId" in entry for i, entry in enumerate(results) if i not in failed)
    delivered: list[int] = []
    while len(delivered) < 10 - len(failed) and (
        messages := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages")
    ):
        delivered += [json.loads(m["Body"])["detail"]["i"] for m in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(delivered) == [i for i in range(10) if i not in failed]


def test_given_a_fail_rate_when_a_request_is_too_big_then_it_is_refused_whole_as_aws_does(
    failing_moto: str,
) -> None:
    events = boto3.client("events", endpoint_url=failing_moto)

    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=[{"Source": "test", "DetailType": "T", "Detail": "{}"}] * 11)

    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_given_a_fail_rate_when_a_request_has_no_entries_then_it_reaches_the_backend_as_is() -> (
    None
):
    seen: list[bytes] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("400 Bad Request", [])
        return [b'{"__type": "ValidationException"}']

    body = json.dumps({"Entries": []}).encode()
    environ = {
        "HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    statuses: list[str] = []

    answer = FaultInjector(backend, {"putevents": 1.0})(environ, lambda s, h: statuses.append(s))

    assert [json.loads(b) for b in seen] == [{"Entries": []}]
    assert (statuses, b"".join(answer)) == (
        ["400 Bad Request"],
        b'{"__type": "ValidationException"}',
    )


def test_given_rate_specs_when_parsing_then_service_prefix_and_case_are_accepted() -> None:
    assert parse_fail_rates("PutEvents=0.3, events-putevents=0.1") == {"putevents": 0.1}
    assert parse_fail_rates("") == {}


@pytest.mark.parametrize("spec", ["putevents", "sendmessage=0.1", "putevents=1.5"])
def test_given_a_bad_rate_spec_when_parsing_then_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match=r"putevents|rate"):
        parse_fail_rates(spec)


def _failed_entries(endpoint: str) -> int:
    events = boto3.client("events", endpoint_url=endpoint)
    entry = {"Source": "test", "DetailType": "T", "Detail": "{}"}
    failed: int = events.put_events(Entries=[entry] * 10)["FailedEntryCount"]  # type: ignore[list-item]
    return failed


def test_given_a_running_server_when_its_rates_file_changes_then_the_new_rates_apply(
    tmp_path: Path,
) -> None:
    rates_file = tmp_path / "fail-rate"
    server = MotoServer(0, FailRates({"putevents": 1.0}, rates_file))
    server.start()
    try:
        assert rates_file.read_text().strip() == "putevents=1"
        assert _failed_entries(server.url) == 10

        rates_file.write_text("putevents=0\n")
        assert _failed_entries(server.url) == 0

        rates_file.write_text("putevents=lots\n")  # refused: the previous rates stay
        assert _failed_entries(server.url) == 0
    finally:
        server.stop()
    assert not rates_file.exists()


def test_given_rates_when_formatting_then_they_parse_back() -> None:
    assert parse_fail_rates(format_fail_rates({"putevents": 0.25})) == {"putevents": 0.25}
    assert format_fail_rates({"putevents": 0.0}) == "none"
    assert FailRates({"putevents": 0.5}).current() == {"putevents": 0.5}
