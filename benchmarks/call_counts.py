"""AWS work per API request, measured: what each route of the load mix invokes, calls and writes.

Every request of the load mix (the Locust scenario's, ``MIX``) goes through the template's routes
and its Lambda authorizer, in this process, against moto, as the integration tests run them. For
each request it records: Lambda invocations (by function), AWS API calls (by service and
operation), DynamoDB request units (write and read, from the items' sizes by DynamoDB's rules, a
transaction's items counted twice), writes to the list index (GSI1, whose one partition key holds
every user), stream records (user items, which the event pipeline reads; mail items, which the
mailer sends; others) and the lifecycle events the pipeline publishes from them. Median of
``BENCH_CALL_RUNS`` requests per route (default 5), each by a new signed-in person.

Reads of the signing keys, MAC keys and JWKS go, in Lambda, through the Parameters and Secrets
extension, which caches them per execution environment; here (no extension) the functions fall
back to the SDK, and those calls are reported apart as ``cached`` reads.
``scripts/generate_capacity.py`` turns the result into docs/capacity.md.
Run: ``.venv/bin/python -m benchmarks.call_counts``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from benchmarks.local_stack import ROOT, save_results

RUNS = int(os.environ.get("BENCH_CALL_RUNS", "5"))
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # Call counts do not depend on the hash's cost: a cheap one keeps the run short.
    "USERFLOW_ARGON2_MEMORY_LOG2_KIB": "10",
    "USERFLOW_ALLOW_TEST_HASH_COST": "1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
}
TEMPLATE = ROOT / "template.yaml"
# The load scenario's mix (benchmarks/locustfile.py, issue 29), per 25 requests: its weights,
# plus the sign-up and login of the new person after each account deletion.
MIX = {
    "GET /users/me": 8,
    "GET /users/{id}": 4,
    "PATCH /users/{id}": 3,
    "POST /auth/refresh": 3,
    "POST /auth/login": 3,
    "GET /.well-known/jwks.json": 1,
    "POST /users (email taken)": 1,
    "POST /users": 1,
    "DELETE /users/{id}": 1,
}
PASSWORD = "a capacity-model passphrase"  # noqa: S105 - throwaway users in moto
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


@dataclass
class Person:
    email: str
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    etag: str = "*"


class LoadMix:
    """The mix's requests through the template's routes and authorizer, in process."""

    def __init__(self, recorder: Recorder) -> None:
        from moto.backends import get_backend
        from moto.core.models import DEFAULT_ACCOUNT_ID

        from samlocal.apigateway.gateway import Gateway
        from samlocal.apigateway.routes import api_from_template
        from samlocal.functions.in_process import Invoker
        from samlocal.template import load_template
        from userflow.local_stack import ONE_MACHINE_TRAFFIC, bootstrap, provision_local_stack

        template = load_template(TEMPLATE)
        # Every person of the mix signs up from this one machine: the per-source limits raised.
        overrides = dict(override.split("=", 1) for override in ONE_MACHINE_TRAFFIC)
        self.stack = provision_local_stack(TEMPLATE, parameters=overrides)
        bootstrap(self.stack)
        self.recorder = recorder
        invoker = Invoker(template, self.stack)

        def invoke(logical_id: str, event: Any) -> Any:
            if recorder.active:
                recorder.invocations[logical_id] += 1
            return invoker.invoke(logical_id, event)

        region = self.stack.region or "us-east-1"
        self.gateway = Gateway(api_from_template(template), invoke, region=region)
        self._table_name = self.stack.physical_id("UserRegistrationTable")
        self._backend = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][region]
        table = template.resources["UserRegistrationTable"]["Properties"]
        index = table["GlobalSecondaryIndexes"]
        self.projected = {
            "PK",
            "SK",
            "GSI1PK",
            "GSI1SK",
            *index[0]["Projection"]["NonKeyAttributes"],
        }

    def stream(self) -> list[Any]:
        """The table's stream records so far (looked up each time: moto replaces a table's
        object when a transaction rolls back)."""
        shard = self._backend.tables[self._table_name].stream_shard
        assert shard is not None, "the table has a stream"
        return list(shard.items)

    def call(
        self, method: str, path: str, body: Any = None, person: Person | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        headers = [("content-type", "application/json")]
        if person is not None and person.access_token:
            headers.append(("authorization", f"Bearer {person.access_token}"))
        if person is not None and method == "PATCH":
            headers.append(("if-match", person.etag))
        payload = b"" if body is None else json.dumps(body).encode()
        answer = self.gateway.handle(method, path, headers=headers, body=payload)
        text = answer.body.decode()
        found = {name.lower(): value for name, value in answer.headers}
        return answer.status, json.loads(text) if text else None, found

    def sign_up(self) -> Person:
        person = Person(email=f"capacity-{uuid.uuid4().hex[:16]}@example.com")
        status, user, _ = self.call(
            "POST", "/users", {"email": person.email, "password": PASSWORD, "name": "C"}
        )
        assert status == 201, user
        person.user_id = user["id"]
        self.log_in(person)
        return person

    def log_in(self, person: Person) -> int:
        status, tokens, _ = self.call(
            "POST", "/auth/login", {"email": person.email, "password": PASSWORD}
        )
        if status == 200:
            person.access_token, person.refresh_token = (
                tokens["access_token"],
                tokens["refresh_token"],
            )
        return status

    def scenario(self, route: str) -> Callable[[], int]:
        """The measured request of ``route``, for a new signed-in person."""
        person = self.sign_up()
        _, _, headers = self.call("GET", "/users/me", person=person)
        person.etag = headers.get("etag", "*")
        requests: dict[str, Callable[[], int]] = {
            "GET /users/me": lambda: self.call("GET", "/users/me", person=person)[0],
            "GET /users/{id}": lambda: self.call("GET", f"/users/{person.user_id}", None, person)[
                0
            ],
            "PATCH /users/{id}": lambda: self.call(
                "PATCH", f"/users/{person.user_id}", {"name": "Renamed"}, person
            )[0],
            "POST /auth/refresh": lambda: self.call(
                "POST", "/auth/refresh", {"refresh_token": person.refresh_token}
            )[0],
            "POST /auth/login": lambda: self.log_in(person),
            "GET /.well-known/jwks.json": lambda: self.call("GET", "/.well-known/jwks.json")[0],
            "POST /users (email taken)": lambda: self.call(
                "POST", "/users", {"email": person.email, "password": PASSWORD, "name": "C"}
            )[0],
            "POST /users": lambda: self.call(
                "POST",
                "/users",
                {
                    "email": f"new-{uuid.uuid4().hex[:16]}@example.com",
                    "password": PASSWORD,
                    "name": "C",
                },
            )[0],
            "DELETE /users/{id}": lambda: self.call(
                "DELETE", f"/users/{person.user_id}", None, person
            )[0],
        }
        return requests[route]

    def measure(self, route: str) -> Request:
        request_of = self.scenario(route)
        before = len(self.stream())
        self.recorder.calls.clear()
        self.recorder.invocations.clear()
        self.recorder.active = True
        try:
            status = request_of()
        finally:
            self.recorder.active = False
        records = [r.record for r in self.stream()[before:]]
        request = summarise(self.recorder, records, self.projected)
        request.status = status
        return request


def median_of(requests: list[Request]) -> dict[str, Any]:
    """Per-request figures: medians of the runs (counters key by key)."""

    def counter_median(name: str) -> dict[str, float]:
        keys = sorted({k for r in requests for k in getattr(r, name)})
        return {k: statistics.median(getattr(r, name)[k] for r in requests) for k in keys}

    return {
        "statuses": sorted({r.status for r in requests}),
        "invocations": counter_median("invocations"),
        "calls": counter_median("calls"),
        "cached_reads": counter_median("cached_reads"),
        "write_units": statistics.median(r.write_units for r in requests),
        "read_units": statistics.median(r.read_units for r in requests),
        "list_index_writes": statistics.median(r.list_index_writes for r in requests),
        "stream_records": counter_median("stream_records"),
        "events": counter_median("events"),
    }


def main() -> int:
    os.environ.update(ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws(), recording() as recorder:
        mix = LoadMix(recorder)
        routes = {route: median_of([mix.measure(route) for _ in range(RUNS)]) for route in MIX}
    print(f"AWS work per request (median of {RUNS}), moto in-process")
    print(
        f"{'route':28} {'status':>7} {'lambda':>6} {'calls':>5} {'WRU':>5} {'RRU':>5}"
        f" {'GSI1':>4} {'stream':>6} {'events':>6}"
    )
    for route, row in routes.items():
        print(
            f"{route:28} {','.join(map(str, row['statuses'])):>7}"
            f" {sum(row['invocations'].values()):6.0f} {sum(row['calls'].values()):5.0f}"
            f" {row['write_units']:5.1f} {row['read_units']:5.1f} {row['list_index_writes']:4.0f}"
            f" {sum(row['stream_records'].values()):6.0f} {sum(row['events'].values()):6.0f}"
        )
    save_results("call_counts", {"runs": RUNS, "mix": MIX, "routes": routes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
