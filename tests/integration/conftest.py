"""Handlers driven in-process against moto, routed and configured by template.yaml.

Requests go through the same route matching and payload 2.0 event building as the local gateway;
the authorizer's verdict is supplied as the ``caller`` (its own behaviour is tested with real tokens
in the auth tests), so these tests focus on what each handler does with a given caller.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from moto import mock_aws

from domain.access import Caller
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Registration, Role
from userflow.local.gateway import api_from_template, map_function_result, match_route
from userflow.local.http_event import build_http_event
from userflow.local.invoke import Invoker
from userflow.local.provision import function_environment, provision_stack
from userflow.local.template import load_template
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


@dataclass
class CreatedUser:
    id: str
    email: str
    password: str
    caller: Caller


def caller_context(caller: Caller) -> dict[str, str]:
    """What the authorizer puts in ``requestContext.authorizer.lambda``."""
    return {"sub": caller.user_id, "roles": ",".join(sorted(caller.roles))}


class ApiClient:
    def __init__(self, stack: Stack) -> None:
        self.template = load_template(TEMPLATE)
        self.api = api_from_template(self.template)
        self.invoker = Invoker(self.template, stack)

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
        result = map_function_result(self.invoke(route.function, event))
        return ApiResponse(
            status=result.status,
            headers={name.lower(): value for name, value in result.headers},
            text=result.body.decode(),
        )


    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Calls the function's handler directly: concurrent calls really run concurrently."""
        function = self.invoker.function(logical_id)
        module_name, _, attribute = function.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        return handler(event, self.invoker.context(function))


def _json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """A fresh moto account with the template's resources and the API functions' environment."""
    with mock_aws():
        provisioned = provision_stack(TEMPLATE)
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
    from handlers.dependencies import user_repository

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
            user = service.grant_role(user.email, Role.ADMIN)
        return CreatedUser(
            id=user.id,
            email=user.email,
            password=password,
            caller=Caller(user_id=user.id, roles=frozenset(str(r) for r in user.roles)),
        )

    return make
