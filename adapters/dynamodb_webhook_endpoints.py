"""Webhook endpoints on the single table, in one partition: PK=WEBHOOKS, SK=ENDPOINT#<id>
(``url``, ``event_types``, ``secret_id``, ``created_at``, ``status``, ``failing_since``), so the
delivery function lists them with a Query its policy confines to that partition (a Scan could
not be). The user stream's filter never delivers them; the signing secret itself is in Secrets
Manager."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.aws_clients import client
from adapters.dynamodb_throttle import update_if_exists
from adapters.user_items import iso_timestamp
from domain.webhooks import Endpoint, EndpointStatus

PARTITION = "WEBHOOKS"
PREFIX = "ENDPOINT#"


def _key(endpoint_id: str) -> dict[str, Any]:
    return {"PK": {"S": PARTITION}, "SK": {"S": f"{PREFIX}{endpoint_id}"}}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _endpoint(item: dict[str, Any]) -> Endpoint:
    failing = item.get("failing_since", {}).get("S")
    return Endpoint(
        id=item["SK"]["S"].removeprefix(PREFIX),
        url=item["url"]["S"],
        event_types=frozenset(item.get("event_types", {}).get("SS", ())),
        secret_id=item["secret_id"]["S"],
        created_at=_time(item["created_at"]["S"]),
        status=EndpointStatus(item["status"]["S"]),
        failing_since=_time(failing) if failing else None,
    )


class DynamoDBWebhookEndpoints:
    def __init__(self, table_name: str, db: Any | None = None) -> None:
        self._table = table_name
        self._db = db or client("dynamodb")

    def add(self, endpoint: Endpoint) -> None:
        item: dict[str, Any] = {
            **_key(endpoint.id),
            "entity": {"S": "webhook"},
            "url": {"S": endpoint.url},
            "secret_id": {"S": endpoint.secret_id},
            "created_at": {"S": iso_timestamp(endpoint.created_at)},
            "status": {"S": str(endpoint.status)},
        }
        if endpoint.event_types:
            item["event_types"] = {"SS": sorted(endpoint.event_types)}
        self._db.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)"
        )

    def get(self, endpoint_id: str) -> Endpoint | None:
        found = self._db.get_item(TableName=self._table, Key=_key(endpoint_id), ConsistentRead=True)
        return _endpoint(found["Item"]) if "Item" in found else None

    def all(self) -> list[Endpoint]:
        endpoints: list[Endpoint] = []
        for page in self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :webhooks AND begins_with(SK, :endpoint)",
            ExpressionAttributeValues={":webhooks": {"S": PARTITION}, ":endpoint": {"S": PREFIX}},
            ConsistentRead=True,
        ):
            endpoints += [_endpoint(item) for item in page["Items"]]
        return sorted(endpoints, key=lambda e: (e.created_at, e.id))

    def remove(self, endpoint_id: str) -> bool:
        answer = self._db.delete_item(
            TableName=self._table, Key=_key(endpoint_id), ReturnValues="ALL_OLD"
        )
        return "Attributes" in answer

    def record_failure(self, endpoint_id: str, now: datetime) -> None:
        """The run of failures starts now, unless one is running."""
        update_if_exists(
            self._db,
            self._table,
            _key(endpoint_id),
            "SET failing_since = if_not_exists(failing_since, :now)",
            {":now": {"S": iso_timestamp(now)}},
        )

    def record_success(self, endpoint_id: str) -> None:
        update_if_exists(
            self._db,
            self._table,
            _key(endpoint_id),
            "REMOVE failing_since",
            condition="attribute_exists(PK) AND attribute_exists(failing_since)",
        )

    def set_status(self, endpoint_id: str, status: EndpointStatus) -> bool:
        """Enabling forgets the run of failures; False when there is no such endpoint."""
        expression = "SET #status = :status" + (
            " REMOVE failing_since" if status is EndpointStatus.ACTIVE else ""
        )
        return update_if_exists(
            self._db,
            self._table,
            _key(endpoint_id),
            expression,
            {":status": {"S": str(status)}},
            names={"#status": "status"},
        )
