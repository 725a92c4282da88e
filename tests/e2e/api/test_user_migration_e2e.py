"""Lazy migration on a running `userflow local` (issue 23, point 2): a user of a Cognito pool on
the stack's own moto server logs in here with their Cognito password, in one request, and is a
user here from then on; an address unknown to both gets today's unknown-user answer.

The pool's ids must be template parameters at start, before the pool can exist on the stack's
moto server: under moto's HASH id strategy the same calls make the same ids, so they are worked
out first on an in-process moto and the pool is then created on the stack's server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.cognito_pool import POOL_PASSWORD, create_pool
from tests.support.local_stack import LocalStack, start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("user_migration")]

ID_STRATEGY = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def _cognito(stack: LocalStack | None = None) -> Any:
    if stack is None:
        return boto3.client("cognito-idp", region_name="us-east-1")
    return boto3.client(
        "cognito-idp",
        endpoint_url=stack.endpoint_url,
        region_name=stack.state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture(scope="module")
def migrating_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ID_STRATEGY.items():
            patch.setenv(name, value)
        with mock_aws():
            expected = create_pool(_cognito())
        overrides = [f"{name}={value}" for name, value in expected.parameters().items()]
        directory: Path = tmp_path_factory.mktemp("userflow-local-migrating")
        with start_local_stack(directory, "--parameter-overrides", *overrides) as stack:
            assert create_pool(_cognito(stack)) == expected
            yield stack


def test_given_a_cognito_user_when_logging_in_here_then_migrated_in_one_request(
    migrating_stack: LocalStack,
) -> None:
    login = migrating_stack.request(
        "POST",
        "/auth/login",
        json_body={"email": "carol@example.com", "password": POOL_PASSWORD},
    )

    assert login.status == 200, login.body
    token = login.json()["access_token"]
    me = migrating_stack.request("GET", "/users/me", headers={"Authorization": f"Bearer {token}"})
    profile = me.json()
    assert (profile["email"], profile["email_verified"]) == ("carol@example.com", True)
    assert (profile["name"], profile["timezone"]) == ("Carol Jones", "Europe/Paris")
    assert profile["app_metadata"]["plan"] == "pro"
    again = migrating_stack.request(
        "POST",
        "/auth/login",
        json_body={"email": "carol@example.com", "password": POOL_PASSWORD},
    )
    assert again.status == 200


def test_given_an_address_unknown_to_both_then_the_answer_of_an_unknown_user(
    migrating_stack: LocalStack, local_stack: LocalStack
) -> None:
    body = {"email": "nobody-at-all@example.com", "password": POOL_PASSWORD}

    here = migrating_stack.request("POST", "/auth/login", json_body=body)
    without_migration = local_stack.request("POST", "/auth/login", json_body=body)

    assert (here.status, here.body) == (without_migration.status, without_migration.body)
    assert here.status == 401
