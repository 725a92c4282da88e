"""Every change names the request that made it, and deletes come after every update."""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stdout
from typing import Any

from adapters.stream_records import event_of_record
from domain.events import DetailType, LifecycleEvent
from samlocal.stream_mapping.lambda_record import as_lambda_record
from tests.integration.dlq.test_dlq_replay import _stream
from tests.support.api_clients import ApiClient, UserFactory
from userflow.commands.admin import run_grant
from userflow.stack import Stack


def _published(stack: Stack, user_id: str) -> list[LifecycleEvent]:
    arn, _, records = _stream(stack)
    events = [event_of_record(as_lambda_record(r, arn)) for r in records]
    return [e for e in events if e is not None and e.detail.user.id == user_id]


def test_given_a_delete_when_published_then_it_has_the_next_version_and_its_own_request_id(
    api: ApiClient, stack: Stack, make_user: UserFactory
) -> None:
    user = make_user()
    api.request("PATCH", "/users/me", json={"name": "Renamed"}, caller=user.caller)
    patch_request = api.last_request_id

    response = api.request(
        "DELETE", "/users/me", json={"current_password": user.password}, caller=user.caller
    )

    assert response.status == 204
    created, updated, deleted = _published(stack, user.id)
    assert deleted.detail_type is DetailType.USER_DELETED
    assert deleted.detail.user.version == updated.detail.user.version + 1
    assert deleted.detail.correlation_id == api.last_request_id != patch_request
    assert updated.detail.correlation_id == patch_request
    assert created.detail.user.version == 1


def test_given_an_admin_grant_when_published_then_correlated_with_the_command(
    stack: Stack, make_user: UserFactory, monkeypatch: Any
) -> None:
    user = make_user()
    monkeypatch.setattr("userflow.commands.admin.resolve_stack", lambda args: stack)
    out = io.StringIO()

    with redirect_stdout(out):
        code = run_grant(argparse.Namespace(email=user.email, json=False, force=True))

    assert code == 0
    request_id = out.getvalue().split("correlation_id of the UserUpdated event): ")[1].strip()
    *_, granted = _published(stack, user.id)
    assert granted.detail.correlation_id == request_id
    assert "roles" in granted.detail.model_dump()["changed_fields"]
