"""Handlers driven in-process against moto, routed and configured by template.yaml.

Requests go through the same route matching and payload 2.0 event building as the local gateway;
the authorizer's verdict is supplied as the ``caller`` (its own behaviour is tested with real tokens
in the auth tests), so these tests focus on what each handler does with a given caller.
"""

from __future__ import annotations

import importlib
import io
import itertools
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from adapters.aws_clients import ServiceName
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.user_items import user_key
from domain.access import Caller
from domain.operator_actions import OperatorActions
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Registration, Role, User
from handlers.observability import logger
from samlocal.apigateway.events import build_http_event
from samlocal.apigateway.gateway import Gateway
from samlocal.apigateway.responses import Response, map_function_result
from samlocal.apigateway.routes import api_from_template, match_route
from samlocal.functions.in_process import Invoker
from samlocal.provision import function_environment
from samlocal.template import load_template
from userflow.local_stack import bootstrap, provision_local_stack
from userflow.stack import Stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @classmethod
    def of(cls, response: Response) -> ApiResponse:
        """What a client sees of the gateway's response (header names lower-cased)."""
        return cls(
            status=response.status,
            headers={name.lower(): value for name, value in response.headers},
            text=response.body.decode(),
        )


@dataclass
class CreatedUser:
    id: str
    email: str
    password: str
    caller: Caller


def caller_context(caller: Caller) -> dict[str, str | int]:
    """What the authorizer puts in ``requestContext.authorizer.lambda``."""
    return {
        "sub": caller.user_id,
        "roles": ",".join(sorted(caller.roles)),
        "gen": caller.session_generation,
        "sid": caller.family_id or "",
        "auth_time": caller.auth_time,
        "amr": ",".join(caller.amr),
    }


def caller_of(user: User, logged_in: float = 3600) -> Caller:
    """The caller an access token issued now would make of ``user`` (never signed out yet), in
    a session whose login was ``logged_in`` seconds ago (by default not recent enough for
    dangerous operations without the current password)."""
    return Caller(
        user_id=user.id,
        roles=frozenset(str(r) for r in user.roles),
        session_generation=0,
        family_id=f"family-of-{user.id}",
        auth_time=int(time.time() - logged_in),
        amr=("pwd",),
    )


class ApiClient:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.template = load_template(TEMPLATE)
        self.api = api_from_template(self.template)
        self.invoker = Invoker(self.template, stack)
        self.last_request_id: str | None = None

    def request(
        self,
        method: str,
        target: str,
        *,
        json: object = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        caller: Caller | None = None,
    ) -> ApiResponse:
        url = urlsplit(target)
        found = match_route(self.api.routes, method, url.path)
        assert found is not None, f"no route for {method} {url.path}"
        route, parameters = found
        all_headers = {"content-type": "application/json", **(headers or {})}
        if json is not None:
            body = _json_bytes(json)
        event = build_http_event(
            method,
            url.path,
            route_key=route.route_key,
            raw_query=url.query,
            headers=all_headers,
            body=body,
            path_parameters=parameters,
            authorizer_context=caller_context(caller) if caller else None,
        )
        self.last_request_id = event["requestContext"]["requestId"]
        result = map_function_result(self.invoke(route.function, event))
        return ApiResponse.of(result)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Calls the function's handler directly: concurrent calls really run concurrently."""
        function = self.invoker.function(logical_id)
        module_name, _, attribute = function.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        return handler(event, self.invoker.context(function))


def _json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def _serialise_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moto snapshots whole tables (deepcopy) inside each transaction, which is not thread-safe;
    DynamoDB itself serialises conflicting transactions, so concurrent tests keep their meaning."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: Any) -> None:
        with lock:
            original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """A fresh moto account with the template's resources and the API functions' environment."""
    _serialise_moto_transactions(monkeypatch)
    with mock_aws():
        provisioned = provision_local_stack(TEMPLATE)
        template = load_template(TEMPLATE)
        for logical_id in template.of_type("AWS::Serverless::Function"):
            for name, value in function_environment(template, logical_id, provisioned).items():
                if name not in os.environ or not name.startswith("POWERTOOLS_"):
                    monkeypatch.setenv(name, value)
        yield provisioned


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack)


UserFactory = Callable[..., CreatedUser]
_sequence = itertools.count()


@pytest.fixture
def make_user(stack: Stack) -> UserFactory:
    """Registers users through the domain service, so tests start from real stored records."""
    from handlers.stores import user_repository

    service = UserService(user_repository(), PasswordHasher())

    def make(
        *, email: str | None = None, name: str = "Test User", admin: bool = False
    ) -> CreatedUser:
        number = next(_sequence)
        password = f"passphrase number {number}"
        user = service.register(
            Registration(email=email or f"user{number}@example.com", password=password, name=name)
        )
        if admin:
            user = OperatorActions(user_repository()).grant_role(user.email, Role.ADMIN, force=True)
        return CreatedUser(
            id=user.id,
            email=user.email,
            password=password,
            caller=caller_of(user),
        )

    return make


# ---------------------------------------------------------------- authentication (issue 3)
def reset_auth_caches() -> None:
    """Forget keys and clients cached by an earlier stack (Powertools parameters, factories)."""
    from aws_lambda_powertools.utilities import parameters

    from adapters.mac_keys import forget_mac_keys
    from handlers import dependencies, policies, stores

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    forget_mac_keys()
    for factory in (
        policies.token_settings,
        stores.public_keys,
        stores.signing_keys,
        dependencies.auth_service,
        dependencies.passkey_service,
        dependencies.passkey_assertions,
        dependencies.passkey_sign_in,
    ):
        factory.cache_clear()


def start_rotation(stack: Stack, token: str | None = None) -> str:
    """What Secrets Manager's RotateSecret does before it invokes the rotation function: a new,
    empty version of the signing key secret, labelled AWSPENDING, whose id is the
    ``ClientRequestToken`` of every step. Moto's rotate_secret cannot run the function, and
    without one it makes that empty version current, so the version is added to moto directly."""
    from moto.backends import get_backend
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backend = get_backend("secretsmanager")[DEFAULT_ACCOUNT_ID][stack.region or "us-east-1"]
    secret = backend.secrets[stack.physical_id("SigningKeySecret")]
    token = token or str(uuid.uuid4())
    secret.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    return token


class GatewayClient:
    """Requests through the template's routes *and* its Lambda authorizer, as API Gateway runs
    them: the caller is whoever the bearer token says, or nobody. Each function runs with its
    own environment from the template."""

    def __init__(self, stack: Stack) -> None:
        template = load_template(TEMPLATE)
        self.stack = stack
        self.db = stack.client("dynamodb")  # one client: each new one reloads the service model
        self.table = stack.physical_id("UserRegistrationTable")
        self.invoker = Invoker(template, stack)
        self.gateway = Gateway(
            api_from_template(template), self.invoker.invoke, region=stack.region or "us-east-1"
        )
        self._users = DynamoDBUserRepository(self.table, cursor_key=lambda: b"unused", db=self.db)

    def request(
        self,
        method: str,
        target: str,
        *,
        json: object = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        source_ip: str = "127.0.0.1",
        body: bytes | None = None,
    ) -> ApiResponse:
        url = urlsplit(target)
        all_headers = {"content-type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        if body is None:
            body = b"" if json is None else _json_bytes(json)
        result = self.gateway.handle(
            method,
            url.path,
            query=url.query,
            headers=list(all_headers.items()),
            body=body,
            source_ip=source_ip,
        )
        return ApiResponse.of(result)

    def register(self, *, admin: bool = False, hasher: PasswordHasher | None = None) -> CreatedUser:
        """A user as registration stores it; ``admin`` granted as `userflow admin grant` does."""
        service = UserService(self._users, hasher or PasswordHasher())
        number = next(_sequence)
        password = f"passphrase number {number}"
        user = service.register(
            Registration(email=f"auth{number}@example.com", password=password, name="Auth User")
        )
        if admin:
            user = OperatorActions(self._users).grant_role(user.email, Role.ADMIN, force=True)
        return CreatedUser(id=user.id, email=user.email, password=password, caller=caller_of(user))

    def login(self, user: CreatedUser) -> dict[str, Any]:
        response = self.request(
            "POST", "/auth/login", json={"email": user.email, "password": user.password}
        )
        assert response.status == 200, response.text
        tokens: dict[str, Any] = response.json
        return tokens

    def lifecycle_events(self) -> list[Any]:
        """The lifecycle events the table stream's records map to so far, in order (records that
        map to none, as passkeys' and claims' do, are left out)."""
        from adapters.stream_records import event_of_record

        mapped = [event_of_record(record) for record in self.stream_records()]
        return [event for event in mapped if event is not None]

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record the table's stream holds, as Lambda delivers them."""
        from samlocal.stream_mapping.lambda_record import as_lambda_record

        streams = self.stack.client("dynamodbstreams")
        arn = self.stack.resources["UserRegistrationTable"]["stream_arn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        return [as_lambda_record(record, arn) for record in records]

    def published(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Every event the stream's records of one user map to (lifecycle and security), in
        order, as (detail-type, detail)."""
        from adapters.stream_records import events_of_record

        return [
            (str(event.detail_type), json.loads(event.detail_json()))
            for record in self.stream_records()
            for event in events_of_record(record)
            if event.detail.user.id == user_id
        ]

    def user_item(self, user_id: str) -> dict[str, Any]:
        """The stored user item, login bookkeeping included."""
        found = self.db.get_item(TableName=self.table, Key=user_key(user_id))
        item: dict[str, Any] = found["Item"]
        return item


@pytest.fixture(scope="module")
def _auth_stack() -> Iterator[GatewayClient]:
    """One provisioned stack, with its first signing key, per module: provisioning takes about a
    second."""
    with mock_aws():
        provisioned = provision_local_stack(TEMPLATE)
        reset_auth_caches()
        bootstrap(provisioned)
        yield GatewayClient(provisioned)
    reset_auth_caches()


@pytest.fixture
def gateway(_auth_stack: GatewayClient) -> Iterator[GatewayClient]:
    """The module's stack, emptied after each test: moto deep-copies every table, stream records
    included, on each transaction, so leftovers would make each test slower than the last."""
    from moto.backends import get_backend
    from moto.core.models import DEFAULT_ACCOUNT_ID

    yield _auth_stack
    db, table = _auth_stack.db, _auth_stack.table
    for page in db.get_paginator("scan").paginate(TableName=table, ProjectionExpression="PK, SK"):
        for item in page["Items"]:
            db.delete_item(TableName=table, Key=item)
    backend = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][_auth_stack.stack.region or "us-east-1"]
    shard = backend.tables[table].stream_shard
    if shard is not None:  # nothing in these tests reads the stream
        shard.items.clear()


def patch_client_method(
    monkeypatch: pytest.MonkeyPatch, stack: Stack, service: str, name: str, wrap: Any
) -> None:
    """Every ``service`` client the stack hands out gets ``name`` replaced by ``wrap(original)``."""
    make_client = stack.client

    def client(requested: ServiceName) -> Any:
        made = make_client(requested)
        if requested == service:
            monkeypatch.setattr(made, name, wrap(getattr(made, name)))
        return made

    monkeypatch.setattr(stack, "client", client)


def shard_gone(monkeypatch: pytest.MonkeyPatch, stack: Stack, shard_id: str) -> None:
    """DynamoDB Streams' answer for a shard past its retention (moto has no such answer)."""

    def wrap(get_shard_iterator: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            if kwargs.get("ShardId") == shard_id:
                raise ClientError(
                    {"Error": {"Code": "ResourceNotFoundException", "Message": "Shard not found"}},
                    "GetShardIterator",
                )
            return get_shard_iterator(**kwargs)

        return call

    patch_client_method(monkeypatch, stack, "dynamodbstreams", "get_shard_iterator", wrap)


@pytest.fixture
def function_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The functions' log lines from here on (the logger's stream, whatever pytest captures)."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
