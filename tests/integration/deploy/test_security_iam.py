"""Least privilege, checked against behaviour: every AWS call a function makes while serving its
routes must be allowed by that function's own policy in template.yaml.

Moto does not enforce IAM, so a call the policy forgets passes every other test here and fails
with AccessDenied (a 500) only on AWS. Calls are recorded at the botocore boundary while the
gateway runs each function, and matched against the function's resolved policy statements.
"""

from __future__ import annotations

import contextvars
import fnmatch
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient

from samlocal.intrinsics import ACCOUNT_ID
from samlocal.provision.stacks import stack_resolver
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, GatewayClient
from tests.support.moto_patches import start_rotation

Call = tuple[str, str, str]
"""(function logical id, IAM action, resource ARN)."""

_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_TRANSACT_ACTIONS["ConditionCheck"] = "ConditionCheckItem"


def _required(gateway: GatewayClient, service: str, operation: str, params: Any) -> Iterator[Any]:
    """The (action, resource ARN) pairs IAM evaluates for one API call."""
    region = gateway.stack.region or "us-east-1"
    tables = {
        record["physical_id"]: record["arn"]
        for record in gateway.stack.of_type("AWS::DynamoDB::Table").values()
    }
    if service == "dynamodb" and operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            for kind, body in item.items():
                yield f"dynamodb:{_TRANSACT_ACTIONS[kind]}", tables[body["TableName"]]
    elif service == "dynamodb" and operation == "BatchGetItem":
        for table in params["RequestItems"]:
            yield "dynamodb:BatchGetItem", tables[table]
    elif service == "dynamodb":
        index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
        yield f"dynamodb:{operation}", tables[params["TableName"]] + index
    elif service == "secretsmanager":
        yield f"secretsmanager:{operation}", params["SecretId"]
    elif service == "ssm":
        yield f"ssm:{operation}", f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{params['Name']}"
    else:
        yield f"{service}:{operation}", "*"


@pytest.fixture
def recorded(gateway: GatewayClient, monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every AWS call made inside a function invocation, attributed to that function."""
    current: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)
    calls: list[Call] = []
    invoke = gateway.gateway.invoke
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def invoking(logical_id: str, event: Any) -> Any:
        token = current.set(logical_id)
        try:
            return invoke(logical_id, event)
        finally:
            current.reset(token)

    def recording(client: BaseClient, operation: str, params: Any) -> Any:
        function = current.get()
        if function is not None:
            service = client.meta.service_model.signing_name
            for action, resource in _required(gateway, service, operation, params):
                calls.append((function, action, resource))
        return make_api_call(client, operation, params)

    monkeypatch.setattr(gateway.gateway, "invoke", invoking)
    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(
        statement.get("Effect") == "Allow"
        and action in _listed(statement.get("Action", []))
        and any(fnmatch.fnmatchcase(resource, p) for p in _listed(statement.get("Resource", [])))
        for statement in statements
    )


def _policy_statements(gateway: GatewayClient, logical_id: str) -> list[dict[str, Any]]:
    template = load_template(TEMPLATE)
    policies = template.function_properties(logical_id).get("Policies", [])
    resolved = stack_resolver(template, gateway.stack).resolve(policies)
    return [statement for policy in resolved for statement in policy["Statement"]]


def _denied(gateway: GatewayClient, recorded: list[Call]) -> list[Call]:
    """The calls a function made that its own policy does not allow."""
    return sorted(
        {call for call in recorded if not _allows(_policy_statements(gateway, call[0]), *call[1:])}
    )


def _exercise_every_api_function(gateway: GatewayClient) -> None:
    """Each route's success path (and a failed login), as a client would drive them."""
    admin = gateway.register(admin=True)
    admin_token = gateway.login(admin)["access_token"]
    email, password = f"iam-{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase"
    registration = {"email": email, "password": password, "name": "Iam"}
    created = gateway.request(
        "POST", "/users", json=registration, headers={"idempotency-key": uuid.uuid4().hex}
    )
    assert created.status == 201, created.text
    user_id = created.json["id"]
    assert gateway.request("POST", "/auth/login", json={"email": email, "password": "x"}).status
    tokens = gateway.request("POST", "/auth/login", json={"email": email, "password": password})
    assert tokens.status == 200, tokens.text
    access = tokens.json["access_token"]
    statuses = {
        "get": gateway.request("GET", "/users/me", token=access).status,
        "resend": gateway.request("POST", "/auth/verify-email/resend", token=access).status,
        "verify": gateway.request("POST", "/auth/verify-email", json={"token": "a.b.c"}).status,
        "forgot": gateway.request("POST", "/auth/forgot-password", json={"email": email}).status,
        "reset": gateway.request(
            "POST", "/auth/reset-password", json={"token": "a.b.c", "password": password}
        ).status,
        "patch": gateway.request(
            "PATCH",
            f"/users/{user_id}",
            json={"email": f"moved-{email}", "current_password": password},
            token=access,
        ).status,
        "list": gateway.request("GET", "/users?limit=1", token=admin_token).status,
        "disable": gateway.request("POST", f"/users/{user_id}/disable", token=admin_token).status,
        "enable": gateway.request("POST", f"/users/{user_id}/enable", token=admin_token).status,
        "jwks": gateway.request("GET", "/.well-known/jwks.json").status,
    }
    again = gateway.login(admin)  # the user's sessions died with the disable
    statuses["refresh"] = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": again["refresh_token"]}
    ).status
    statuses["delete"] = gateway.request("DELETE", f"/users/{user_id}", token=admin_token).status
    statuses["logout"] = gateway.request(
        "POST", "/auth/logout", json={"all": True}, token=admin_token
    ).status
    assert statuses == {
        "get": 200,
        "patch": 200,
        "list": 200,
        "disable": 204,
        "enable": 204,
        "jwks": 200,
        "resend": 202,
        "verify": 400,
        "forgot": 202,
        "reset": 400,
        "refresh": 200,
        "logout": 204,
        "delete": 204,
    }


def _rotate_signing_key(gateway: GatewayClient) -> None:
    """A whole rotation, each step as Secrets Manager invokes the rotation function."""
    secret_arn = gateway.stack.physical_id("SigningKeySecret")
    token = start_rotation(gateway.stack)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}
        gateway.gateway.invoke("KeyRotationFunction", event)


def test_given_every_route_when_served_then_each_function_calls_only_what_its_policy_allows(
    gateway: GatewayClient, recorded: list[Call]
) -> None:
    _exercise_every_api_function(gateway)
    _rotate_signing_key(gateway)

    functions = {function for function, _, _ in recorded}
    denied = _denied(gateway, recorded)

    assert len(functions) >= 10, functions  # every API function and the authorizer ran
    assert "KeyRotationFunction" in functions
    assert denied == []


def _exercise_passkey_functions(gateway: GatewayClient) -> None:
    """Every passkey route's success path, and the refusals that write (a clone's block)."""
    from tests.support.webauthn_authenticator import SoftAuthenticator

    user = gateway.register()
    access = gateway.login(user)["access_token"]
    device = SoftAuthenticator()
    options = gateway.request("POST", "/users/me/passkeys/options", token=access).json
    credential = device.create(options["options"])
    body = {"challenge_id": options["challenge_id"], "credential": credential}
    passkey = gateway.request("POST", "/users/me/passkeys", json=body, token=access).json
    clone = device.clone()

    def sign_in(authenticator: SoftAuthenticator, email: str | None = None) -> int:
        asked = gateway.request(
            "POST", "/auth/passkey/options", json={"email": email} if email else None
        ).json
        answer = {
            "challenge_id": asked["challenge_id"],
            "credential": authenticator.get(asked["options"]),
        }
        return gateway.request("POST", "/auth/passkey", json=answer).status

    statuses = {
        "sign_in": sign_in(device, user.email),
        "list": gateway.request("GET", "/users/me/passkeys", token=access).status,
        "rename": gateway.request(
            "PATCH", f"/users/me/passkeys/{passkey['id']}", json={"name": "K"}, token=access
        ).status,
        "password": gateway.request("DELETE", "/users/me/password", token=access).status,
        "sign_in_again": sign_in(device),
        "clone": sign_in(clone),  # blocks the passkey, ends the sessions, mails the user
    }
    second = gateway.register()
    second_access = gateway.login(second)["access_token"]
    options = gateway.request("POST", "/users/me/passkeys/options", token=second_access).json
    other = SoftAuthenticator()
    body = {"challenge_id": options["challenge_id"], "credential": other.create(options["options"])}
    added = gateway.request("POST", "/users/me/passkeys", json=body, token=second_access).json
    statuses["remove"] = gateway.request(
        "DELETE", f"/users/me/passkeys/{added['id']}", token=second_access
    ).status
    assert statuses == {
        "sign_in": 200,
        "list": 200,
        "rename": 200,
        "password": 204,
        "sign_in_again": 200,
        "clone": 401,
        "remove": 204,
    }


def test_given_every_passkey_route_when_served_then_each_function_calls_only_what_it_may(
    gateway: GatewayClient, recorded: list[Call]
) -> None:
    _exercise_passkey_functions(gateway)

    functions = {function for function, _, _ in recorded}
    denied = _denied(gateway, recorded)

    assert {"PasskeysFunction", "PasskeySignInFunction"} <= functions
    assert denied == []
