"""Clients that drive the template's functions in-process against moto, as the integration tests
use them: ``ApiClient`` calls a route's handler with a given caller, ``GatewayClient`` goes through
the routes *and* the Lambda authorizer with real tokens. Their fixtures are in
tests/integration/conftest.py.
"""

from __future__ import annotations

import importlib
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from adapters.user_items import user_key
from domain.access import Caller
from domain.admin_service import AdminService
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Registration, Role, User
from samlocal.apigateway.events import build_http_event
from samlocal.apigateway.gateway import Gateway
from samlocal.apigateway.responses import Response, map_function_result
from samlocal.apigateway.routes import api_from_template, match_route
from samlocal.functions.in_process import Invoker
from samlocal.template import load_template
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


UserFactory = Callable[..., CreatedUser]
user_numbers = itertools.count()
"""Numbers that make test users' emails and passwords unique across the process."""


# ---------------------------------------------------------------- authentication (issue 3)
def reset_auth_caches() -> None:
    """Forget keys and clients cached by an earlier stack (Powertools parameters, factories)."""
    from aws_lambda_powertools.utilities import parameters

    from handlers import dependencies

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    dependencies.forget_mac_keys()
    for factory in (
        dependencies.token_settings,
        dependencies.public_keys,
        dependencies.signing_keys,
        dependencies.auth_service,
        dependencies.passkey_service,
        dependencies.passkey_assertions,
        dependencies.passkey_sign_in,
    ):
        factory.cache_clear()


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
        hasher = hasher or PasswordHasher()
        guard = PasswordGuard(DynamoDBLoginState(self.table, self.db), hasher)
        service = UserService(self._users, hasher, password_guard=guard)
        number = next(user_numbers)
        password = f"passphrase number {number}"
        user = service.register(
            Registration(email=f"auth{number}@example.com", password=password, name="Auth User")
        )
        if admin:
            user = AdminService(self._users).grant_role(user.email, Role.ADMIN, force=True)
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
