"""`dlq replay` decided by what the table holds now: the table fallback when the stream lost a
batch, and a poison record whose item may or may not have been repaired since."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from adapters.sqs_poison_queue import message_body, without_images
from adapters.user_items import user_key
from domain.clock import utc_now
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import UserPatch
from handlers.dependencies import login_state, user_repository
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.integration.dlq.test_dlq_replay import (
    _depth,
    _events,
    _on_failure_message,
    _replay,
    _send,
    _stream,
)
from tests.integration.pipeline.test_stream_processor import Pipeline, pipeline  # noqa: F401
from tests.support.api_clients import UserFactory
from tests.support.moto_patches import shard_gone
from tests.support.stream_records import created
from userflow.stack import Stack


def test_given_a_lost_rename_and_a_later_password_change_when_the_table_stands_in_then_published(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_user(admin=True)
    user = make_user(name="Old Name")
    hasher = PasswordHasher()
    guard = PasswordGuard(login_state(), hasher)
    UserService(user_repository(), hasher, password_guard=guard).update(
        admin.caller, user.id, UserPatch(name="New Name")
    )
    arn, _, records = _stream(stack)
    rename = records[-1]
    assert rename["dynamodb"]["NewImage"]["name"]["S"] == "New Name"
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", [rename]))
    _events(stack)
    # Ten minutes later a password change: committed, and publishing nothing.
    later = UserService(
        user_repository(),
        hasher,
        clock=lambda: utc_now() + timedelta(minutes=10),
        password_guard=guard,
    )
    later.update(admin.caller, user.id, UserPatch(password="a brand new horse staple 77"))
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack, queue="UserStreamFailureQueue")

    renamed = [e["detail"]["user"] for e in _events(stack) if e["detail"]["user"]["id"] == user.id]
    assert code == 0, output
    assert [u["name"] for u in renamed] == ["New Name"]
    assert _depth(stack, "UserStreamFailureQueue") == 0


@pytest.mark.parametrize(
    "changed",
    [
        {},  # no time at all
        {"updated_at": {"N": "5"}},
        {"updated_at": {"S": "0001-01-01T00:00:00+01:00"}},  # before the calendar once in UTC
        {"updated_at": {"S": "9999-12-31T23:59:59-01:00"}},  # after it
    ],
)
def test_given_a_broken_item_elsewhere_in_the_table_when_the_table_stands_in_then_others_publish(
    stack: Stack, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch, changed: dict[str, Any]
) -> None:
    user = make_user()
    arn, _, records = _stream(stack)
    _send(stack, "UserStreamFailureQueue", _on_failure_message(arn, "shardId-gone", records))
    stack.client("dynamodb").put_item(
        TableName=stack.physical_id("UserRegistrationTable"),
        Item={**user_key("broken"), "id": {"S": "broken"}, "name": {"S": "Broken"}, **changed},
    )
    shard_gone(monkeypatch, stack, "shardId-gone")

    code, output = _replay(stack, queue="UserStreamFailureQueue")

    assert [e["detail"]["user"]["id"] for e in _events(stack)] == [user.id], output
    # The broken item is kept where operators look for items that cannot become events.
    poisoned = _drain_bodies(stack, "UserStreamPoisonQueue")
    assert [p["record"]["dynamodb"]["Keys"]["PK"]["S"] for p in poisoned] == ["USER#broken"]
    assert (code, _depth(stack, "UserStreamFailureQueue")) == (0, 0)


def test_given_a_poison_record_whose_item_is_unchanged_when_replayed_then_its_message_stays(
    stack: Stack,
    pipeline: Pipeline,  # noqa: F811
) -> None:
    image = created("naive")["dynamodb"]["NewImage"]
    image["created_at"] = {"S": "2026-01-01T12:00:00"}  # no offset: it cannot be published
    stack.client("dynamodb").put_item(
        TableName=stack.physical_id("UserRegistrationTable"), Item=image
    )
    arn, _, records = _stream(stack)
    assert pipeline.run([as_lambda_record(r, arn) for r in records]) == []
    assert _depth(stack, "UserStreamPoisonQueue") == 1

    code, output = _replay(stack, queue="UserStreamPoisonQueue")

    assert _events(stack) == []
    assert _depth(stack, "UserStreamPoisonQueue") == 1
    assert code != 0
    assert "the item is still invalid" in output


def test_given_a_poison_message_kept_without_its_images_when_the_item_maps_then_it_is_published(
    stack: Stack, make_user: UserFactory
) -> None:
    user = make_user()
    arn, _, records = _stream(stack)
    creation = next(
        as_lambda_record(r, arn) for r in records if r["dynamodb"]["Keys"] == user_key(user.id)
    )
    body = message_body(without_images(creation), "too large to keep whole")
    _send(stack, "UserStreamPoisonQueue", json.loads(body))
    _events(stack)

    code, output = _replay(stack, queue="UserStreamPoisonQueue")

    [event] = _events(stack)
    assert (event["detail"]["user"]["id"], event["detail"]["reconstructed"]) == (user.id, True)
    assert (code, _depth(stack, "UserStreamPoisonQueue")) == (0, 0), output


def _drain_bodies(stack: Stack, logical_id: str) -> list[dict[str, Any]]:
    from tests.integration.dlq.test_dlq_replay import _drain

    return [json.loads(m["Body"]) for m in _drain(stack, logical_id)]
