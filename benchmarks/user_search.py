"""GET /users latency on moto at 10k and 100k users: the former single-partition list (baseline,
measured in the same run on the same table) against the sharded list and each filter.

moto evaluates a GSI query by walking every item of the table, so figures grow with the table
and a fan-out of N queries costs N walks: on moto, more shards cost more. DynamoDB reads only the
key range of each partition; the capacity figures on paper are in docs/users/search.md.
Run: python -m benchmarks.user_search [--users 10000 100000] [--repeats 5]; at 100k users one page
takes minutes on moto (make bench times one page per figure there).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(name, "bench")

OUT = Path("build/bench/user_search.json")
REPEATS = 5


def _seed(db: Any, table: str, count: int, shards: int) -> None:
    from adapters.user_items import account_attributes, claim_index_values, email_key, user_key
    from domain.users import User, UserAccount, UserStatus

    start = datetime(2024, 1, 1, tzinfo=UTC)
    batch: list[dict[str, Any]] = []
    for index in range(count):
        created = start + timedelta(seconds=index)
        user = User(
            id=str(uuid.UUID(int=index + 1)),
            email=f"user{index:06d}@example.com",
            email_verified=index % 3 == 0,
            name=f"User {index}",
            status=UserStatus.DISABLED if index % 50 == 0 else UserStatus.ACTIVE,
            created_at=created,
            updated_at=created + timedelta(days=index % 30),
        )
        item = {
            **user_key(user.id),
            **account_attributes(UserAccount(user=user, password_hash="-"), shards=shards),  # noqa: S106
        }
        item["LEGACY_GSI1PK"] = {"S": "USERS"}
        claim = {
            **email_key(user.email),
            "user_id": {"S": user.id},
            **{k: {"S": v} for k, v in claim_index_values(user.email, user.id, shards).items()},
        }
        batch += [{"PutRequest": {"Item": item}}, {"PutRequest": {"Item": claim}}]
        if len(batch) >= 24:
            db.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        db.batch_write_item(RequestItems={table: batch})


def _median_ms(action: Callable[[], object], repeats: int = REPEATS) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _baseline(db: Any, table: str) -> Callable[[], object]:
    """The former list: one Query of the single partition, then the page's items (25)."""

    def page() -> object:
        found = db.query(
            TableName=table,
            IndexName="LEGACY",
            KeyConditionExpression="LEGACY_GSI1PK = :users",
            ExpressionAttributeValues={":users": {"S": "USERS"}},
            Limit=25,
        )
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in found["Items"]]
        return db.batch_get_item(RequestItems={table: {"Keys": keys}})

    return page


def run(count: int, shards: int, repeats: int = REPEATS) -> dict[str, float]:
    from moto import mock_aws

    from adapters.dynamodb_user_repository import DynamoDBUserRepository
    from domain.user_search import UserQuery
    from userflow.local_stack import provision_local_stack

    with mock_aws():
        stack = provision_local_stack(Path("template.yaml"))
        table = stack.physical_id("UserRegistrationTable")
        import boto3

        db = boto3.client("dynamodb")
        # The former index, as it was: one partition for every user.
        db.update_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "LEGACY_GSI1PK", "AttributeType": "S"},
                {"AttributeName": "GSI1SK", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "LEGACY",
                        "KeySchema": [
                            {"AttributeName": "LEGACY_GSI1PK", "KeyType": "HASH"},
                            {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        )
        started = time.perf_counter()
        _seed(db, table, count, shards)
        print(f"  seeded {count} users in {time.perf_counter() - started:.0f} s", flush=True)
        repository = DynamoDBUserRepository(
            table, cursor_key=lambda: b"bench", db=db, shards=shards
        )
        queries = {
            "sharded list": UserQuery(),
            "status=disabled": UserQuery(status="disabled"),
            "email_verified=false": UserQuery(email_verified=False),
            "created_after": UserQuery(created_after=datetime(2024, 1, 1, 12, tzinfo=UTC)),
            "updated_since": UserQuery(updated_since=datetime(2024, 1, 20, tzinfo=UTC)),
            "email_prefix=user0123": UserQuery(email_prefix="user0123"),
        }
        figures = {"single-partition list (baseline)": _median_ms(_baseline(db, table), repeats)}
        for name, query in queries.items():
            page = functools.partial(repository.list_users, 25, None, query)
            figures[name] = _median_ms(page, repeats)
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument(
        "--repeats", type=int, default=REPEATS, help="timed pages per figure (their median)"
    )
    args = parser.parse_args()
    # One file for every size measured (make bench runs 100k users apart, with fewer repeats).
    results: dict[str, dict[str, float]] = json.loads(OUT.read_text()) if OUT.exists() else {}
    for count in args.users:
        print(f"{count} users, {args.shards} shards (median of {args.repeats}, ms per page of 25):")
        figures = run(count, args.shards, args.repeats)
        baseline = figures["single-partition list (baseline)"]
        for name, value in figures.items():
            print(f"  {name:36} {value:9.1f} ms  x{value / baseline:.2f} of the baseline")
        results[str(count)] = figures
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
