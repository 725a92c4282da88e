"""Proof of the README's subscriber rule ("Ordering and duplicates"), by property-based testing.

Any history of changes made through the real use cases and stored in the real table (moto), read
back from the table's stream and mapped by the processor's mapping, then delivered at least once,
duplicated and in any order, folds with the rule into exactly the table's final users.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.stream_records import event_of_record
from adapters.user_items import user_from_item, user_key
from domain.access import Caller
from domain.admin_service import AdminService
from domain.errors import UserNotFound
from domain.event_details import COMPARED_FIELDS
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Registration, Role, UserPatch
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.support.api_clients import TEMPLATE
from userflow.local_stack import provision_local_stack
from userflow.stack import Stack

USERS = 3
LOCALES = {"Ada": "en", "Grace": "fr-CA", "Émilie": None}
_numbers = itertools.count()


def fold(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The README's rule, verbatim: drop an event_id already applied; per user keep the event
    with the greatest ``user.version``; the user exists unless that event is UserDeleted."""
    applied: set[str] = set()
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        detail = event["detail"]
        if detail["event_id"] in applied:
            continue
        applied.add(detail["event_id"])
        user = detail["user"]
        kept = latest.get(user["id"])
        if kept is None or user["version"] > kept["detail"]["user"]["version"]:
            latest[user["id"]] = event
    return {
        user_id: event["detail"]["user"]
        for user_id, event in latest.items()
        if event["detail-type"] != "UserDeleted"
    }


class History:
    """Applies operations through UserService on the moto table, each as its own request."""

    def __init__(self, stack: StreamedStack) -> None:
        self.stack = stack
        self.request = ""
        repository = DynamoDBUserRepository(
            stack.physical_id("UserRegistrationTable"),
            cursor_key=lambda: b"k" * 32,
            db=stack.client("dynamodb"),
            request_id=lambda: self.request,
        )
        hasher = PasswordHasher()
        login_state = DynamoDBLoginState(stack.physical_id("UserRegistrationTable"))
        self.repository = repository
        self.service = UserService(
            repository, hasher, password_guard=PasswordGuard(login_state, hasher)
        )
        self.ids: list[str | None] = [None] * USERS
        self.passwords: dict[str, str] = {}
        self.created: set[str] = set()

    def apply(self, operation: tuple[str, int, str]) -> None:
        kind, slot, value = operation
        self.request = f"req-{next(_numbers)}"
        user_id = self.ids[slot]
        if kind == "register" and user_id is None:
            number = next(_numbers)
            password = f"pass phrase {number}"
            user = self.service.register(
                Registration(email=f"p{number}@example.com", password=password, name=value)
            )
            self.ids[slot] = user.id
            self.passwords[user.id] = password
            self.created.add(user.id)
            return
        if user_id is None:
            return
        try:
            generation = self.repository.get(user_id).session_generation
        except UserNotFound:
            self.ids[slot] = None
            return
        caller = Caller(user_id, frozenset({Role.USER.value}), generation)
        try:
            if kind == "rename":
                self.service.update(caller, user_id, UserPatch(name=value))
            elif kind == "locale":
                locale = LOCALES[value]
                self.service.update(caller, user_id, UserPatch.model_validate({"locale": locale}))
            elif kind == "password":  # a new version nobody hears of: not a public change
                new = f"{self.passwords[user_id]} again"
                patch = {"password": new, "current_password": self.passwords[user_id]}
                self.service.update(caller, user_id, UserPatch.model_validate(patch))
                self.passwords[user_id] = new
            elif kind == "grant":
                email = self.service.get(caller, user_id).email
                AdminService(self.repository).grant_role(email, Role.ADMIN, force=True)
            elif kind == "delete":
                self.service.delete(caller, user_id, self.passwords[user_id])
                self.ids[slot] = None
        except UserNotFound:
            self.ids[slot] = None

    def table_users(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        users = {}
        for user_id in ids:
            found = self.stack.client("dynamodb").get_item(
                TableName=self.stack.physical_id("UserRegistrationTable"), Key=user_key(user_id)
            )
            if "Item" in found:
                users[user_id] = user_from_item(found["Item"]).model_dump(mode="json")
        return users

    def events(self, ids: set[str]) -> list[dict[str, Any]]:
        """Every event the processor publishes for these users, as subscribers receive it."""
        events = []
        for record in self.stack.new_stream_records():
            event = event_of_record(record)
            if event is not None and event.detail.user.id in ids:
                detail = json.loads(event.detail_json())
                events.append({"detail-type": str(event.detail_type), "detail": detail})
        return events


class StreamedStack(Stack):
    """The template's stack in moto, with a cursor on its table's stream (one shard in moto)."""

    iterator: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        # One client per service: building one loads its model (slow, and done per call).
        self.client = functools.cache(self.client)  # type: ignore[assignment]

    def fresh_table(self) -> None:
        """An empty copy of the user table (moto copies whole tables, streams included, in each
        transaction, so a table shared by every example would slow each one down)."""
        dynamodb = self.client("dynamodb")
        entry = self.resources["UserRegistrationTable"]
        table = dynamodb.describe_table(TableName=entry["physical_id"])["Table"]
        name = f"subscriber-rule-{next(_numbers)}"
        created = dynamodb.create_table(
            TableName=name,
            KeySchema=table["KeySchema"],
            AttributeDefinitions=[
                a
                for a in table["AttributeDefinitions"]
                if a["AttributeName"] in {k["AttributeName"] for k in table["KeySchema"]}
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        if entry["physical_id"].startswith("subscriber-rule-"):
            dynamodb.delete_table(TableName=entry["physical_id"])
        self.resources["UserRegistrationTable"] = {
            **entry,
            "physical_id": name,
            "stream_arn": created["LatestStreamArn"],
        }
        self.iterator = None

    def new_stream_records(self) -> list[dict[str, Any]]:
        """The records written since the last call, as Lambda delivers them."""
        streams = self.client("dynamodbstreams")
        arn = self.resources["UserRegistrationTable"]["stream_arn"]
        if self.iterator is None:
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            self.iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        records = []
        while True:
            page = streams.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = page["NextShardIterator"]
            records += [as_lambda_record(r, arn) for r in page["Records"]]
            if not page["Records"]:
                return records


@pytest.fixture(scope="module")
def moto_stack() -> Iterator[StreamedStack]:
    with mock_aws():
        stack = provision_local_stack(TEMPLATE)
        yield StreamedStack(
            **{f.name: getattr(stack, f.name) for f in dataclasses.fields(stack) if f.init}
        )


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {field: user[field] for field in ("id", *COMPARED_FIELDS)}


operations = st.lists(
    st.tuples(
        st.sampled_from(["register", "rename", "locale", "password", "grant", "delete"]),
        st.integers(0, USERS - 1),
        st.sampled_from(["Ada", "Grace", "Émilie"]),
    ),
    max_size=12,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=operations, delivery=st.data())
def test_given_any_history_when_delivered_in_any_order_and_duplicated_then_the_rule_rebuilds_table(
    moto_stack: StreamedStack, history: list[tuple[str, int, str]], delivery: st.DataObject
) -> None:
    moto_stack.fresh_table()
    story = History(moto_stack)
    for operation in [("register", 0, "Ada"), *history]:
        story.apply(operation)
    published = story.events(story.created)

    copies = [event for event in published for _ in range(delivery.draw(st.integers(1, 3)))]
    delivered = delivery.draw(st.permutations(copies))

    rebuilt = fold(delivered)
    assert {k: _public(v) for k, v in rebuilt.items()} == {
        k: _public(v) for k, v in story.table_users(story.created).items()
    }
