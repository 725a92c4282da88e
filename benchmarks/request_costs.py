"""What one API request costs in AWS work, from every botocore call made while it is handled:
the calls by service and operation, and DynamoDB request units by DynamoDB's own sizing rules
(a transaction's items counted twice), with the stream records and lifecycle events it caused
(benchmarks/call_counts.py measures the load mix's routes with it)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CACHED_READS = {("secretsmanager", "GetSecretValue"), ("ssm", "GetParameter")}
TRANSACTIONS = {"TransactWriteItems", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
LIST_INDEX_KEY = "GSI1PK"


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value as DynamoDB sizes items (its developer guide, "Item sizes")."""
    kind, inner = next(iter(value.items()))
    if kind in ("L", "M"):
        members = inner.items() if kind == "M" else (("", item) for item in inner)
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in members)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: member}) for member in inner)
    return _SCALAR_SIZES[kind](inner)


def _number_size(text: str) -> int:
    digits = len(str(text).lstrip("-").replace(".", "").lstrip("0")) or 1
    return math.ceil(digits / 2) + 1


_SCALAR_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda text: len(str(text).encode()),
    "N": _number_size,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
}


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_size(v) for name, v in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


@dataclass
class Request:
    """What one API request caused."""

    status: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    cached_reads: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    list_index_writes: int = 0
    stream_records: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class Recorder:
    """Collects what happens while a request is handled."""

    calls: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    invocations: Counter[str] = field(default_factory=Counter)
    active: bool = False


def _key_of(item: dict[str, Any]) -> str:
    return json.dumps({k: item[k] for k in ("PK", "SK") if k in item}, sort_keys=True)


def _written_keys(operation: str, params: dict[str, Any]) -> list[tuple[str, float]]:
    """(key, multiplier) of every item a write call touches."""
    if operation == "TransactWriteItems":
        found = []
        for entry in params["TransactItems"]:
            action = next(iter(entry.values()))
            found.append((_key_of(action.get("Item") or action.get("Key") or {}), 2.0))
        return found
    if operation == "BatchWriteItem":
        return [
            (_key_of(next(iter(r.values())).get("Item") or r["DeleteRequest"]["Key"]), 1.0)
            for requests in params["RequestItems"].values()
            for r in requests
        ]
    return [(_key_of(params.get("Item") or params.get("Key") or {}), 1.0)]


def _read_units(operation: str, params: dict[str, Any], response: dict[str, Any]) -> float:
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return read_units(item_size(response.get("Item")), consistent)
    if operation == "Query":
        total = sum(item_size(item) for item in response.get("Items", []))
        return read_units(total, consistent and "IndexName" not in params)
    if operation == "TransactGetItems":
        return sum(
            2 * read_units(item_size(r.get("Item")), True) for r in response.get("Responses", [])
        )
    return 0.0


def summarise(recorder: Recorder, records: list[dict[str, Any]], projected: set[str]) -> Request:
    """The request's figures from its calls and the stream records it made."""
    from adapters.stream_records import table_change
    from domain.events import event_for

    request = Request(invocations=Counter(recorder.invocations))
    sizes: dict[str, int] = {}
    for record in records:
        stream = record["dynamodb"]
        images = [stream.get("OldImage"), stream.get("NewImage")]
        sizes[_key_of(stream["Keys"])] = max(item_size(image) for image in images)
        keys = {name: next(iter(v.values())) for name, v in stream["Keys"].items()}
        kind = "user" if str(keys.get("PK", "")).startswith("USER#") else "other"
        if str(keys.get("PK", "")).startswith("MAIL#"):
            kind = "mail"
        request.stream_records[kind] += 1
        if any(image and LIST_INDEX_KEY in image for image in images):
            old, new = ({k: v for k, v in (i or {}).items() if k in projected} for i in images)
            request.list_index_writes += int(old != new)
        change = table_change(record) if kind == "user" else None
        event = None if change is None else event_for(change)
        if event is not None:
            request.events[event.detail_type] += 1
    for service, operation, params, response in recorder.calls:
        name = f"{service}:{operation}"
        if (service, operation) in CACHED_READS:
            request.cached_reads[name] += 1
            continue
        request.calls[name] += 1
        if service == "dynamodb" and operation in WRITES:
            for key, multiplier in _written_keys(operation, params):
                request.write_units += multiplier * write_units(sizes.get(key, 0))
        elif service == "dynamodb":
            request.read_units += _read_units(operation, params, response)
    return request


@contextmanager
def recording() -> Iterator[Recorder]:
    """Every botocore API call made while the recorder is active."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    recorder = Recorder()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        response: dict[str, Any] = {}
        try:
            response = original(client, operation, params)
        except ClientError as error:  # a refused call costs a request too
            response = dict(error.response)
            raise
        finally:
            if recorder.active:
                service = client.meta.service_model.service_name
                recorder.calls.append((service, operation, params, response))
        return response

    BaseClient._make_api_call = recorded  # type: ignore[attr-defined]
    try:
        yield recorder
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]
