"""Moto made to behave as AWS where the integration tests need it to: thread-safe transactions,
a rotation's pending secret version, a shard past its retention, a client call that fails.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters.aws_clients import ServiceName
from userflow.stack import Stack


def serialise_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moto snapshots whole tables (deepcopy) inside each transaction, which is not thread-safe;
    DynamoDB itself serialises conflicting transactions, so concurrent tests keep their meaning."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: Any) -> None:
        with lock:
            original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)


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
