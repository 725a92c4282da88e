"""What the functions hand to X-Ray never carries a token or a user's data.

Powertools' Tracer records a handler's whole response as trace metadata unless told not to; the
responses of login and refresh are bearer credentials, kept in X-Ray for 30 days and readable with
trace permissions alone. The tests replace the X-Ray recorder and read what it was given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from handlers.observability import tracer
from tests.support.api_clients import GatewayClient


class _Subsegment:
    def __init__(self, sink: list[Any]) -> None:
        self._sink = sink

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._sink.append({key: value})

    def put_annotation(self, key: str, value: Any) -> None:
        self._sink.append({key: value})

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        self._sink.append(str(exception))


class _Recorder:
    """Stands in for the X-Ray recorder: keeps everything put on a subsegment."""

    def __init__(self) -> None:
        self.recorded: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[_Subsegment]:
        self.recorded.append(name)
        yield _Subsegment(self.recorded)


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch, gateway: GatewayClient) -> Iterator[_Recorder]:
    """Tracing on (as with DetailedTracing=true), into a recorder that keeps what it is given."""
    recorder = _Recorder()
    monkeypatch.setattr(tracer(), "provider", recorder)
    gateway.invoker.local_values = {"POWERTOOLS_TRACE_DISABLED": "false"}
    yield recorder
    gateway.invoker.local_values = {}


def test_given_tracing_when_tokens_are_issued_and_used_then_no_token_reaches_a_trace(
    gateway: GatewayClient, traces: _Recorder
) -> None:
    user = gateway.register()
    first = gateway.login(user)
    second = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).json
    me = gateway.request("GET", "/users/me", token=second["access_token"])

    recorded = json.dumps(traces.recorded, default=str)

    assert me.status == 200
    assert "## handler" in recorded  # the handlers did run inside traced subsegments
    secrets = [first["access_token"], first["refresh_token"], second["refresh_token"]]
    secrets += [second["access_token"], user.email]
    assert [secret[:12] for secret in secrets if secret in recorded] == []


def test_given_tracing_when_links_are_mailed_and_used_then_no_token_reaches_a_trace(
    gateway: GatewayClient, traces: _Recorder
) -> None:
    from tests.support.mailbox import Mailbox

    mailbox = Mailbox(gateway.stack, gateway.invoker)
    user = gateway.register()
    verification = mailbox.last_token(user.email)
    gateway.request("POST", "/auth/verify-email", json={"token": verification})
    gateway.request("POST", "/auth/forgot-password", json={"email": user.email})
    reset = mailbox.last_token(user.email)
    answer = gateway.request(
        "POST", "/auth/reset-password", json={"token": reset, "password": "new passphrase 1"}
    )

    recorded = json.dumps(traces.recorded, default=str)

    assert answer.status == 204
    assert "## handler" in recorded
    for secret in (verification, reset, "new passphrase 1"):
        assert secret not in recorded
        assert secret.rpartition(".")[2] not in recorded
