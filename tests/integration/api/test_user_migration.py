"""Lazy migration from a Cognito user pool (issue 23, point 2): the template's parameters and IAM,
the Cognito adapter against moto's cognito-idp, and login and forgot-password through the routes
of a stack configured to migrate (docs/users/migration.md)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from adapters.cognito_user_pool import CognitoUserPool
from adapters.user_items import account_from_item
from domain.passwords import ARGON2ID_PREFIX
from domain.user_migration import IN_POOL_PREFIX
from domain.users import Origin
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, GatewayClient, reset_auth_caches
from tests.support.cognito_pool import (
    POOL_PASSWORD,
    TEMPORARY_PASSWORD,
    PoolIds,
    add_user,
    create_pool,
)
from tests.support.mailbox import Mailbox
from userflow.local_stack import bootstrap, provision_local_stack

UNKNOWN_USER = {"message": "Invalid credentials"}
LOGIN_LIMIT = 6
MIGRATING_FUNCTIONS = {"LoginFunction", "PasswordRecoveryFunction"}


@pytest.fixture(scope="module")
def migrating() -> Iterator[tuple[GatewayClient, PoolIds]]:
    """A stack whose template parameters name a moto Cognito pool, with a low login limit per
    source to show it still applies."""
    from handlers import dependencies

    with mock_aws():
        ids = create_pool(boto3.client("cognito-idp", region_name="us-east-1"))
        parameters = ids.parameters() | {"LoginRequestsPerSource": str(LOGIN_LIMIT)}
        provisioned = provision_local_stack(TEMPLATE, parameters=parameters)
        reset_auth_caches()
        dependencies.recovery_service.cache_clear()
        bootstrap(provisioned)
        yield GatewayClient(provisioned), ids
    reset_auth_caches()
    dependencies.recovery_service.cache_clear()


@pytest.fixture
def gateway(migrating: tuple[GatewayClient, PoolIds]) -> GatewayClient:
    return migrating[0]


@pytest.fixture
def pool_user(migrating: tuple[GatewayClient, PoolIds]) -> Callable[..., str]:
    """A new user of the pool (each test its own: the module shares one stack); its email."""
    cognito = boto3.client("cognito-idp", region_name="us-east-1")

    def add(*, verified: bool = True, permanent: bool = True) -> str:
        email = f"pool-{uuid.uuid4().hex[:12]}@example.com"
        add_user(
            cognito, migrating[1], email, verified=verified, name="Pool User", permanent=permanent
        )
        return email

    return add


def _login(gateway: GatewayClient, email: str, password: str, source: str) -> Any:
    return gateway.request(
        "POST", "/auth/login", json={"email": email, "password": password}, source_ip=source
    )


def _stored(gateway: GatewayClient, email: str) -> Any:
    claim = gateway.db.get_item(
        TableName=gateway.table, Key={"PK": {"S": f"EMAIL#{email}"}, "SK": {"S": "EMAIL"}}
    )
    if "Item" not in claim:
        return None
    return account_from_item(gateway.user_item(claim["Item"]["user_id"]["S"]))


# ---------------------------------------------------------------- the template
def test_given_the_template_then_only_login_and_recovery_may_call_that_one_pool() -> None:
    template = load_template(TEMPLATE)
    granted: dict[str, list[Any]] = {}
    for logical_id, resource in template.resources.items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for listed in policy.get("Statement", []) if isinstance(policy, dict) else []:
                condition, statement, otherwise = listed.get("Fn::If", (None, listed, None))
                actions = statement.get("Action", [])
                if any(str(action).startswith("cognito-idp:") for action in actions):
                    granted[logical_id] = [condition, statement, otherwise]

    assert set(granted) == MIGRATING_FUNCTIONS
    for condition, statement, otherwise in granted.values():
        assert condition == "MigratesFromUserPool"
        assert otherwise == {"Ref": "AWS::NoValue"}
        assert statement["Action"] == ["cognito-idp:AdminInitiateAuth", "cognito-idp:AdminGetUser"]
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}"
            ":userpool/${MigrateFromUserPoolId}"
        }
    conditions = template.body["Conditions"]
    assert conditions["MigratesFromUserPool"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "MigrateFromUserPoolId"}, ""]}]
    }


# ---------------------------------------------------------------- the adapter on moto
@mock_aws
def test_given_a_moto_pool_then_only_a_right_password_of_an_enabled_user_without_challenge() -> (
    None
):
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    ids = create_pool(cognito)
    pool = CognitoUserPool(ids.pool_id, ids.client_id, cognito)

    carol = pool.authenticate("carol@example.com", POOL_PASSWORD)

    assert carol is not None
    assert (carol.email, carol.email_verified, carol.name) == (
        "carol@example.com",
        True,
        "Carol Jones",
    )
    assert (carol.timezone, carol.attributes) == ("Europe/Paris", {"plan": "pro"})
    assert carol.created_at is not None
    assert pool.authenticate("carol@example.com", "not the password") is None
    assert pool.authenticate("nobody@example.com", POOL_PASSWORD) is None
    assert pool.authenticate("erin@example.com", TEMPORARY_PASSWORD) is None  # must change it
    assert pool.authenticate("frank@example.com", POOL_PASSWORD) is None  # disabled
    assert pool.find("frank@example.com") is None
    dave = pool.find("dave@example.com")
    assert dave is not None
    assert dave.email_verified is False


def test_given_an_unreachable_pool_then_a_refusal_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Unreachable:
        def admin_initiate_auth(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://cognito-idp.example")

    pool = CognitoUserPool("us-east-1_x", "client", Unreachable())  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert pool.authenticate("carol@example.com", POOL_PASSWORD) is None
    assert "Cognito AdminInitiateAuth failed: EndpointConnectionError" in caplog.text
    assert POOL_PASSWORD not in caplog.text


# ---------------------------------------------------------------- login
def test_given_a_pool_user_when_logging_in_then_moved_over_with_attributes_and_logged_in(
    gateway: GatewayClient,
) -> None:
    response = _login(gateway, "carol@example.com", POOL_PASSWORD, "10.0.1.1")

    assert response.status == 200, response.text
    me = gateway.request("GET", "/users/me", token=response.json["access_token"]).json
    assert (me["email"], me["email_verified"], me["name"]) == (
        "carol@example.com",
        True,
        "Carol Jones",
    )
    assert me["timezone"] == "Europe/Paris"
    assert me["app_metadata"]["plan"] == "pro"
    assert me["app_metadata"]["migrated_from"]
    account = _stored(gateway, "carol@example.com")
    assert account.password_hash.startswith(ARGON2ID_PREFIX)
    assert account.origin is Origin.MIGRATION
    created = [e for e in gateway.lifecycle_events() if e.detail.user.id == account.user.id]
    assert [(e.detail_type, e.detail.origin) for e in created] == [("UserCreated", "migration")]
    again = _login(gateway, "carol@example.com", POOL_PASSWORD, "10.0.1.1")
    assert again.status == 200
    assert _login(gateway, "carol@example.com", "not the password", "10.0.1.1").json == UNKNOWN_USER


@pytest.mark.parametrize(
    ("case", "password"),
    [
        ("unknown to both", POOL_PASSWORD),
        ("wrong password", "not the password"),
        ("temporary password", TEMPORARY_PASSWORD),  # the pool would ask for a new one
        ("disabled there", POOL_PASSWORD),
    ],
)
def test_given_no_pool_verdict_for_the_password_then_todays_unknown_user_and_nothing_stored(
    gateway: GatewayClient, pool_user: Callable[..., str], case: str, password: str
) -> None:
    email = {
        "unknown to both": "nobody@example.com",
        "wrong password": pool_user(),
        "temporary password": pool_user(permanent=False),
        "disabled there": "frank@example.com",
    }[case]

    response = _login(gateway, email, password, "10.0.2.1")

    assert (response.status, response.json) == (401, UNKNOWN_USER)
    assert _stored(gateway, email) is None


def test_given_a_source_past_its_login_limit_then_429_even_for_a_pool_user(
    gateway: GatewayClient, pool_user: Callable[..., str]
) -> None:
    email = pool_user()
    for _ in range(LOGIN_LIMIT):
        _login(gateway, "nobody@example.com", "guess", "10.0.3.1")

    response = _login(gateway, email, POOL_PASSWORD, "10.0.3.1")

    assert response.status == 429
    assert _stored(gateway, email) is None  # the pool was never asked


# ---------------------------------------------------------------- forgot-password
def test_given_a_pool_user_when_forgetting_then_moved_over_mailed_and_the_link_sets_a_password(
    gateway: GatewayClient, pool_user: Callable[..., str]
) -> None:
    email = pool_user(permanent=False)  # a temporary password moves over this way
    mailbox = Mailbox(gateway.stack, gateway.invoker)

    response = gateway.request("POST", "/auth/forgot-password", json={"email": email})

    assert response.status == 202
    account = _stored(gateway, email)
    assert account.password_hash.startswith(IN_POOL_PREFIX)
    assert account.origin is Origin.MIGRATION
    token = mailbox.last_token(email)
    reset = gateway.request(
        "POST", "/auth/reset-password", json={"token": token, "password": "my new passphrase"}
    )
    assert reset.status == 204
    assert _login(gateway, email, "my new passphrase", "10.0.4.1").status == 200


def test_given_a_user_moved_by_forgot_password_when_logging_in_with_the_pools_password_then_in(
    gateway: GatewayClient, pool_user: Callable[..., str]
) -> None:
    email = pool_user(verified=False)
    gateway.request("POST", "/auth/forgot-password", json={"email": email})
    assert _stored(gateway, email).password_hash.startswith(IN_POOL_PREFIX)

    response = _login(gateway, email, POOL_PASSWORD, "10.0.5.1")

    assert response.status == 200, response.text
    account = _stored(gateway, email)
    assert account.password_hash.startswith(ARGON2ID_PREFIX)
    assert account.user.email_verified is False


def test_given_an_address_unknown_to_both_when_forgetting_then_202_and_nothing_stored(
    gateway: GatewayClient,
) -> None:
    for email in ("nobody@example.com", "frank@example.com"):
        response = gateway.request("POST", "/auth/forgot-password", json={"email": email})

        assert (response.status, response.text) == (202, "")
        assert _stored(gateway, email) is None
