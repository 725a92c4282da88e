"""`userflow users backfill` (userflow/users/backfill.py) on moto: items written before the indexes
were sharded (the single `USERS` partition, no GSI2 keys) get today's keys; a second run writes
nothing; an interrupted run resumes from its checkpoint; a concurrent change is never undone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.user_items import (
    INDEX_ATTRIBUTES,
    LEGACY_LIST_PARTITION,
    claim_index_values,
    email_key,
    user_index_values,
    user_key,
)
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_search import UserQuery
from domain.user_service import UserService
from domain.users import Registration, User
from tests.support.api_clients import TEMPLATE
from userflow.local_stack import provision_local_stack
from userflow.users.backfill import backfill

USERS = 7
PAGE = 4  # items per scan page: 7 users and 7 claims take four pages


class Progress:
    def __init__(self, fail_after: int | None = None) -> None:
        self.count = 0
        self._fail_after = fail_after

    def update(self, count: int) -> None:
        self.count += count
        if self._fail_after is not None and self.count >= self._fail_after:
            raise KeyboardInterrupt  # the operator's Ctrl-C, mid-run


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, list[User]]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        stack = provision_local_stack(TEMPLATE)
        db = stack.client("dynamodb")
        name = stack.physical_id("UserRegistrationTable")
        repository = DynamoDBUserRepository(name, cursor_key=lambda: b"k" * 32, db=db)
        hasher = PasswordHasher()
        guard = PasswordGuard(DynamoDBLoginState(name, db), hasher)
        service = UserService(repository, hasher, password_guard=guard)
        users = [
            service.register(
                Registration(email=f"old{n}@example.com", password=f"passphrase {n}!", name="Old")
            )
            for n in range(USERS)
        ]
        for user in users:  # as the release before the sharded indexes stored them
            db.update_item(
                TableName=name,
                Key=user_key(user.id),
                UpdateExpression="SET GSI1PK = :users REMOVE GSI2PK, GSI2SK",
                ExpressionAttributeValues={":users": {"S": LEGACY_LIST_PARTITION}},
            )
            db.update_item(
                TableName=name, Key=email_key(user.email), UpdateExpression="REMOVE GSI2PK, GSI2SK"
            )
        yield db, name, users


def _keys(db: Any, table: str, key: dict[str, Any]) -> dict[str, str]:
    item = db.get_item(TableName=table, Key=key)["Item"]
    return {name: item[name]["S"] for name in INDEX_ATTRIBUTES if name in item}


def _run(db: Any, table: str, checkpoint: Path, shards: int = 4, **kwargs: Any) -> Any:
    return backfill(
        db, table, shards, checkpoint, rate=0, page_size=PAGE, **kwargs | {"progress": Progress()}
    )


def _all_current(db: Any, table: str, users: list[User], shards: int = 4) -> bool:
    return all(
        _keys(db, table, user_key(user.id)) == user_index_values(user, shards)
        and _keys(db, table, email_key(user.email))
        == claim_index_values(user.email, user.id, shards)
        for user in users
    )


def test_given_items_of_the_old_layout_when_backfilled_then_listed_and_a_rerun_writes_nothing(
    table: tuple[Any, str, list[User]], tmp_path: Path
) -> None:
    db, name, users = table
    checkpoint = tmp_path / "backfill.json"

    first = _run(db, name, checkpoint)

    assert first["updated"] == 2 * USERS
    assert _all_current(db, name, users)
    assert not checkpoint.exists()
    second = _run(db, name, checkpoint)
    assert second["updated"] == 0
    assert second["unchanged"] == 2 * USERS
    repository = DynamoDBUserRepository(name, cursor_key=lambda: b"k" * 32, db=db)
    found = repository.list_users(100, None, UserQuery(email_prefix="old"))
    assert sorted(u.id for u in found.items) == sorted(u.id for u in users)


def test_given_an_interrupted_run_when_run_again_then_it_resumes_where_it_stopped(
    table: tuple[Any, str, list[User]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, name, users = table
    checkpoint = tmp_path / "backfill.json"
    with pytest.raises(KeyboardInterrupt):
        backfill(db, name, 4, checkpoint, rate=0, page_size=PAGE, progress=Progress(PAGE + 1))
    assert checkpoint.exists()  # the position after the first full page
    starts: list[Any] = []
    scan = db.scan

    def recording_scan(**request: Any) -> Any:
        starts.append(request.get("ExclusiveStartKey"))
        return scan(**request)

    monkeypatch.setattr(db, "scan", recording_scan)

    resumed = _run(db, name, checkpoint)

    assert starts[0] is not None  # not from the start
    assert resumed["updated"] + resumed["unchanged"] < 2 * USERS
    assert _all_current(db, name, users)
    assert not checkpoint.exists()


def test_given_a_write_between_read_and_backfill_then_the_newer_item_stands(
    table: tuple[Any, str, list[User]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, name, users = table
    target = users[0]
    update_item = db.update_item

    def racing_update(**request: Any) -> Any:
        if request["Key"] == user_key(target.id) and "#version" in request.get(
            "ConditionExpression", ""
        ):
            update_item(  # an API write lands first: a new version, its own index keys
                TableName=name,
                Key=user_key(target.id),
                UpdateExpression="SET #version = :v, #name = :n",
                ExpressionAttributeNames={"#version": "version", "#name": "name"},
                ExpressionAttributeValues={":v": {"N": "99"}, ":n": {"S": "Renamed"}},
            )
        return update_item(**request)

    monkeypatch.setattr(db, "update_item", racing_update)

    counts = _run(db, name, tmp_path / "backfill.json")

    assert counts["changed meanwhile"] == 1
    item = db.get_item(TableName=name, Key=user_key(target.id))["Item"]
    assert (item["version"]["N"], item["name"]["S"]) == ("99", "Renamed")
    assert item["GSI1PK"]["S"] == LEGACY_LIST_PARTITION  # left to the newer write's own keys


def test_given_a_new_shard_count_when_backfilled_then_every_item_moves_to_its_new_shard(
    table: tuple[Any, str, list[User]], tmp_path: Path
) -> None:
    db, name, users = table
    _run(db, name, tmp_path / "four.json")

    counts = _run(db, name, tmp_path / "sixteen.json", shards=16)

    assert _all_current(db, name, users, shards=16)
    assert counts["updated"] + counts["unchanged"] == 2 * USERS
