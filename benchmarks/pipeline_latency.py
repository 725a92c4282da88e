"""Lifecycle pipeline latency on the local stack: a user committed to the table -> its
`UserCreated` event delivered by the bus to a subscriber queue (median and p95).

Users are written through the domain service straight to `userflow local`'s table (the commit
time is when the write returns), the local stream poller invokes the processor as Lambda's event
source mapping would (the template's BatchSize and MaximumBatchingWindowInSeconds, the window
capped at 1 s locally), and the example subscriber's queue is polled for the events.
Run: ``.venv/bin/python -m benchmarks.pipeline_latency``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time

from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from benchmarks.local_stack import BenchStack, local_stack, save_results
from domain.password_guard import PasswordGuard
from domain.passwords import Argon2Cost, PasswordHasher
from domain.user_service import UserService
from domain.users import Registration

USERS = int(os.environ.get("BENCH_PIPELINE_USERS", "30"))
TIMEOUT_S = 60.0
# The hash is not what is measured (the clock starts after the write): a cheap one.
CHEAP = Argon2Cost(memory_kib=1024, time_cost=1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(bench: BenchStack) -> list[float]:
    stack = bench.stack
    table, db, hasher = (
        stack.physical_id("UserRegistrationTable"),
        stack.client("dynamodb"),
        PasswordHasher(CHEAP),
    )
    users = UserService(
        DynamoDBUserRepository(table, cursor_key=lambda: b"unused", db=db),
        hasher,
        password_guard=PasswordGuard(DynamoDBLoginState(table, db), hasher),
    )
    sqs, queue = stack.client("sqs"), stack.physical_id("ExampleSubscriberQueue")
    committed: dict[str, float] = {}
    delivered: dict[str, float] = {}
    done = threading.Event()

    def receive() -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not done.is_set() and time.monotonic() < deadline:
            answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            now = time.perf_counter()
            for message in answer.get("Messages", []):
                event = json.loads(message["Body"])
                if event.get("detail-type") == "UserCreated":
                    delivered.setdefault(event["detail"]["user"]["id"], now)
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            if len(delivered.keys() & committed.keys()) >= USERS:
                done.set()

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    for number in range(USERS):
        user = users.register(
            Registration(
                email=f"pipeline-{number}-{time.time_ns()}@example.com",
                password="a benchmark passphrase",  # noqa: S106 - a throwaway user
                name="Pipeline",
            )
        )
        committed[user.id] = time.perf_counter()
        time.sleep(0.1)  # a steady trickle, not one burst
    receiver.join(TIMEOUT_S)
    done.set()
    missing = committed.keys() - delivered.keys()
    assert not missing, f"{len(missing)} events not delivered in {TIMEOUT_S} s"
    return [(delivered[user_id] - committed[user_id]) * 1000 for user_id in committed]


def main() -> int:
    with local_stack() as bench:
        latencies = measure(bench)
        mapping = bench.template.function_properties("UserStreamProcessorFunction")["Events"]
        properties = next(iter(mapping.values()))["Properties"]
    results = {
        "users": len(latencies),
        "median_ms": round(statistics.median(latencies)),
        "p95_ms": round(percentile(latencies, 0.95)),
        "batch_size": properties.get("BatchSize"),
        "batching_window_s": properties.get("MaximumBatchingWindowInSeconds"),
    }
    print(
        f"commit -> event on the bus -> subscriber queue, {results['users']} users: "
        f"median {results['median_ms']} ms, p95 {results['p95_ms']} ms "
        f"(BatchSize {results['batch_size']}, window {results['batching_window_s']} s)"
    )
    save_results("pipeline_latency", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
