"""The local HTTP API over real HTTP: routes, authorizer and errors as API Gateway answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = pytest.mark.e2e


def _registration(email: str) -> dict[str, Any]:
    return {"email": email, "password": "correct horse battery staple", "name": "E2E User"}


def test_given_a_new_email_when_registering_then_201_with_location(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    response = local_stack.request("POST", "/users", json_body=_registration(unique_email()))

    assert response.status == 201
    user = response.json()
    assert response.headers["Location"] == f"/users/{user['id']}"
    assert "password" not in response.body.decode()


def test_given_no_authorization_header_when_reading_a_user_then_401_unauthorized(
    local_stack: LocalStack,
) -> None:
    response = local_stack.request("GET", "/users/some-id")

    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_given_a_garbage_bearer_token_when_reading_a_user_then_403_forbidden(
    local_stack: LocalStack,
) -> None:
    response = local_stack.request(
        "GET", "/users/some-id", headers={"Authorization": "Bearer not-a-jwt"}
    )

    assert response.status == 403
    assert response.json() == {"message": "Forbidden"}


def test_given_an_unknown_path_when_requesting_then_404_not_found(
    local_stack: LocalStack,
) -> None:
    response = local_stack.request("GET", "/no/such/route")

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


def test_given_a_known_path_when_using_another_method_then_404_not_found(
    local_stack: LocalStack,
) -> None:
    response = local_stack.request("PUT", "/users", json_body={})

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


def test_given_a_malformed_json_body_when_registering_then_400(local_stack: LocalStack) -> None:
    response = local_stack.request(
        "POST", "/users", body=b'{"email": ', headers={"Content-Type": "application/json"}
    )

    assert response.status == 400
    assert "message" in response.json()


def test_given_a_started_stack_when_it_stops_then_its_state_file_is_gone(tmp_path: Path) -> None:
    with start_local_stack(tmp_path) as stack:
        state = json.loads((stack.state_dir / "local.json").read_text())
        assert state["api_url"] == stack.api_url
        assert state["resources"]["UserRegistrationTable"]["type"] == "AWS::DynamoDB::Table"

    assert not (stack.state_dir / "local.json").exists()
