"""Stream-to-EventBridge throughput: the processor's batched PutEvents against one call per record.

Both runs push the same user-created stream records through `LifecyclePipeline` and the real
`EventBridgePublisher`, against moto in-process (so the figures count calls and our own CPU, not
network latency, which batching saves even more of on AWS). The baseline hands the pipeline one
record at a time, as a processor without batching would.
Run: `python -m benchmarks.publish_batching`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000"))
BATCH_SIZE = 100  # the event source mapping's BatchSize in template.yaml

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def measure(feed: Callable[[list[dict[str, Any]]], None], records: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    feed(records)
    return time.perf_counter() - started


def main() -> int:
    import boto3
    from moto import mock_aws

    from adapters.eventbridge_publisher import EventBridgePublisher
    from adapters.stream_records import table_change
    from domain.event_pipeline import LifecyclePipeline, Status
    from tests.stream_records import created

    with mock_aws():
        events = boto3.client("events")
        events.create_event_bus(Name="bench")
        calls = {"n": 0}

        def count(**_: Any) -> None:
            calls["n"] += 1

        events.meta.events.register("before-call.events.PutEvents", count)
        pipeline = LifecyclePipeline(
            EventBridgePublisher("bench", events_client=events), table_change
        )
        records = [created(user_id=f"u-{i}") for i in range(RECORDS)]

        def batched(items: list[dict[str, Any]]) -> None:
            for start in range(0, len(items), BATCH_SIZE):
                outcomes = pipeline.process(items[start : start + BATCH_SIZE])
                assert all(o.status is Status.PUBLISHED for o in outcomes.values())

        def one_by_one(items: list[dict[str, Any]]) -> None:
            for item in items:
                pipeline.process([item])

        rows = []
        for name, feed in (("one PutEvents per record", one_by_one), ("batched", batched)):
            calls["n"] = 0
            seconds = measure(feed, records)
            rows.append((name, seconds, calls["n"]))

    baseline_seconds, baseline_calls = rows[0][1], rows[0][2]
    print(f"{RECORDS} user-created records")
    print(f"{'mode':28} {'seconds':>8} {'records/s':>10} {'PutEvents':>10} {'x faster':>9}")
    for name, seconds, count_ in rows:
        print(
            f"{name:28} {seconds:8.2f} {RECORDS / seconds:10.0f} {count_:10d}"
            f" {baseline_seconds / seconds:9.2f}"
        )
    print(f"PutEvents calls saved: {1 - rows[1][2] / baseline_calls:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
