"""An idle stream poller sleeps until moto appends a record, and a record wakes it at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from samlocal.aws_endpoint import moto_streams
from samlocal.aws_endpoint.moto_streams import StreamActivity
from samlocal.stream_mapping.mappings import StreamMapping
from samlocal.stream_mapping.poller import StreamPoller
from tests.support.counting_client import CountingClient


@dataclass
class StreamTable:
    table: Any
    activity: StreamActivity


@pytest.fixture
def streamed() -> Iterator[StreamTable]:
    with mock_aws():
        activity = StreamActivity()
        moto_streams.install(activity)
        try:
            table = boto3.resource("dynamodb").create_table(
                TableName="users",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )
            yield StreamTable(table, activity)
        finally:
            moto_streams.uninstall()


def test_given_a_waiter_when_an_item_is_written_then_it_wakes_and_reads_do_not_wake_it(
    streamed: StreamTable,
) -> None:
    table, activity = streamed.table, streamed.activity
    seen = activity.count
    table.get_item(Key={"pk": "nobody"})

    started = time.monotonic()
    activity.wait(seen, timeout=0.3)
    assert time.monotonic() - started >= 0.3  # a read appends nothing

    threading.Timer(0.1, lambda: table.put_item(Item={"pk": "a"})).start()
    started = time.monotonic()
    activity.wait(seen, timeout=5)
    assert time.monotonic() - started < 2
    assert activity.count == seen + 1


def test_given_an_idle_poller_when_records_come_then_it_reads_only_for_them_and_stops_at_once(
    streamed: StreamTable,
) -> None:
    table = streamed.table
    delivered: list[str] = []
    streams = CountingClient(boto3.client("dynamodbstreams"), "get_records")
    stop = threading.Event()
    poller = StreamPoller(
        StreamMapping(function="Processor", stream_arn=table.latest_stream_arn, batch_size=10),
        invoke=lambda _, event: delivered.extend(
            r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]
        ),
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:processor",
        streams_client=streams,  # type: ignore[arg-type]
        destination_client=boto3.client,  # type: ignore[arg-type]
        region="us-east-1",
        stop=stop,
        changes=streamed.activity,
    )
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()

    time.sleep(1.5)  # idle: a poller without ``changes`` would have read seven times
    idle_reads = streams.calls
    table.put_item(Item={"pk": "a"})
    deadline = time.monotonic() + 2
    while delivered != ["a"] and time.monotonic() < deadline:
        time.sleep(0.01)

    assert idle_reads <= 1
    assert delivered == ["a"]
    stop.set()
    streamed.activity.notify()
    thread.join(timeout=1)
    assert not thread.is_alive()
