"""Handlers driven in-process against moto, routed and configured by template.yaml.

Requests go through the same route matching and payload 2.0 event building as the local gateway;
the authorizer's verdict is supplied as the ``caller`` (its own behaviour is tested with real tokens
in the auth tests), so these tests focus on what each handler does with a given caller.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from moto import mock_aws

from domain.admin_service import AdminService
from domain.password_guard import PasswordGuard
from domain.passwords import PasswordHasher
from domain.user_service import UserService
from domain.users import Registration, Role
from handlers.observability import logger
from samlocal.provision import function_environment
from samlocal.sqs_mapping import SqsPoller
from samlocal.template import load_template
from tests.support.api_clients import (
    TEMPLATE,
    ApiClient,
    CreatedUser,
    GatewayClient,
    UserFactory,
    caller_of,
    reset_auth_caches,
    user_numbers,
)
from tests.support.moto_patches import serialise_moto_transactions
from tests.support.moto_snapshot import fresh_stack
from tests.support.stream_processor import Pipeline, PutEvents
from tests.support.webhook_delivery import delivery_poller
from userflow.local_stack import bootstrap
from userflow.stack import Stack


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """A fresh moto account with the template's resources and the API functions' environment."""
    serialise_moto_transactions(monkeypatch)
    with mock_aws():
        provisioned = fresh_stack(TEMPLATE)
        template = load_template(TEMPLATE)
        for logical_id in template.of_type("AWS::Serverless::Function"):
            for name, value in function_environment(template, logical_id, provisioned).items():
                if name not in os.environ or not name.startswith("POWERTOOLS_"):
                    monkeypatch.setenv(name, value)
        yield provisioned


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack)


@pytest.fixture
def make_user(stack: Stack) -> UserFactory:
    """Registers users through the domain service, so tests start from real stored records."""
    from handlers.stores import login_state, user_repository

    hasher = PasswordHasher()
    guard = PasswordGuard(login_state(), hasher)
    service = UserService(user_repository(), hasher, password_guard=guard)

    def make(
        *, email: str | None = None, name: str = "Test User", admin: bool = False
    ) -> CreatedUser:
        number = next(user_numbers)
        password = f"passphrase number {number}"
        user = service.register(
            Registration(email=email or f"user{number}@example.com", password=password, name=name)
        )
        if admin:
            user = AdminService(user_repository()).grant_role(user.email, Role.ADMIN, force=True)
        return CreatedUser(
            id=user.id,
            email=user.email,
            password=password,
            caller=caller_of(user),
        )

    return make


@pytest.fixture(scope="module")
def _auth_stack() -> Iterator[GatewayClient]:
    """One provisioned stack, with its first signing key, per module: provisioning takes about a
    second; fresh_stack makes it a copy."""
    with mock_aws():
        provisioned = fresh_stack(TEMPLATE)
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


@pytest.fixture
def pipeline(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The stream processor on this stack, counting the entries of each PutEvents call."""
    from handlers import handle_user_stream

    handle_user_stream.pipeline.cache_clear()
    # Backoff between PutEvents attempts is real in Lambda; zero here keeps tests fast.
    monkeypatch.setattr("adapters.eventbridge_publisher.random.uniform", lambda a, b: 0.0)
    pipeline = Pipeline(stack)

    def counting(put_events: PutEvents) -> PutEvents:
        def call(**kwargs: Any) -> Mapping[str, Any]:
            pipeline.put_events_calls.append(len(kwargs["Entries"]))
            return put_events(**kwargs)

        return call

    pipeline.intercept_put_events(monkeypatch, counting)
    yield pipeline
    handle_user_stream.pipeline.cache_clear()


@pytest.fixture
def function_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The functions' log lines from here on (the logger's stream, whatever pytest captures)."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


@pytest.fixture
def delivery(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqsPoller]:
    """The webhook delivery function behind WebhookQueue, with a short retry schedule."""
    yield from delivery_poller(stack, monkeypatch)
