"""moto's instance tracker, made weak: what nothing else holds is freed, the rest still listed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from samlocal.aws_endpoint import moto_tracking


def tracked(model: Any) -> list[Any]:
    return list(model.instances_tracked)


@pytest.fixture
def table() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def _overwrite(client: object, times: int) -> None:
    for n in range(times):
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": str(n)}})  # type: ignore[attr-defined]


def test_given_moto_as_released_when_an_item_is_overwritten_then_every_version_is_kept(
    monkeypatch: pytest.MonkeyPatch, table: object
) -> None:
    monkeypatch.setattr(BaseModel, "__new__", moto_tracking._ORIGINAL_NEW)
    before = len(tracked(Item))

    _overwrite(table, 50)
    gc.collect()

    assert len(tracked(Item)) - before >= 50


def test_given_weak_tracking_when_an_item_is_overwritten_then_old_versions_are_freed(
    monkeypatch: pytest.MonkeyPatch, table: object
) -> None:
    monkeypatch.setattr(BaseModel, "__new__", moto_tracking._ORIGINAL_NEW)
    moto_tracking.install()  # undone by the monkeypatch

    _overwrite(table, 50)
    gc.collect()

    live = tracked(Item)
    assert len([item for item in live if item.hash_key.value == "a"]) == 1
    assert any(tracked.name == "t" for tracked in tracked(Table))  # still listed
