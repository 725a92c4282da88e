"""Stream-to-EventBridge throughput by batch size: records per second through map + publish.

The same user-created stream records go through `LifecyclePipeline` and the real
`EventBridgePublisher` in batches of 1 (the baseline: one record per invocation, as without
batching), 10, 25, 100 (the template's BatchSize) and 500, against moto in-process (so the figures
count calls and our own CPU, not network latency, which batching saves even more of on AWS).
Run: `python -m benchmarks.publish_batching`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.local_stack import save_results

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000"))
BATCH_SIZE = 100  # the event source mapping's BatchSize in template.yaml
# 1 is the baseline: one invocation (and one PutEvents) per record, as without batching.
BATCH_SIZES = (1, 10, 25, BATCH_SIZE, 500)

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
    from domain.event_pipeline import LifecyclePipeline, RecordStatus
    from tests.support.stream_records import created

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

        def in_batches_of(size: int) -> Callable[[list[dict[str, Any]]], None]:
            def feed(items: list[dict[str, Any]]) -> None:
                for start in range(0, len(items), size):
                    outcomes = pipeline.process(items[start : start + size])
                    assert all(o.status is RecordStatus.PUBLISHED for o in outcomes.values())

            return feed

        rows = []
        for size in BATCH_SIZES:
            calls["n"] = 0
            seconds = measure(in_batches_of(size), records)
            rows.append((size, seconds, calls["n"]))

    baseline_seconds = rows[0][1]
    print(f"{RECORDS} user-created records through map + PutEvents (moto in-process)")
    print(f"{'batch size':>10} {'seconds':>8} {'records/s':>10} {'PutEvents':>10} {'x batch 1':>9}")
    for size, seconds, count_ in rows:
        print(
            f"{size:10d} {seconds:8.2f} {RECORDS / seconds:10.0f} {count_:10d}"
            f" {baseline_seconds / seconds:9.2f}"
        )
    save_results(
        "publish_batching",
        {
            "records": RECORDS,
            "template_batch_size": BATCH_SIZE,
            "by_batch_size": {
                str(size): {"records_per_second": round(RECORDS / seconds), "put_events": count_}
                for size, seconds, count_ in rows
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
