"""Who may do what, for every route: anonymous, a forged token, the user themself, another user
and an admin, through the template's Lambda authorizer exactly as API Gateway chains it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from domain.signing_keys import new_key_set
from tests.support.api_clients import CreatedUser, GatewayClient

ANONYMOUS, FORGED, SELF, OTHER, ADMIN = "anonymous", "forged", "self", "other", "admin"


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # "{target}": the caller's own id for SELF, the victim's id for everyone else
    body: object
    expected: dict[str, int]


PROTECTED = {ANONYMOUS: 401, FORGED: 403}
MATRIX = [
    Case("GET", "/users/{target}", None, {**PROTECTED, SELF: 200, OTHER: 403, ADMIN: 200}),
    Case("GET", "/users/me", None, {**PROTECTED, SELF: 200, OTHER: 200, ADMIN: 200}),
    Case(
        "PATCH", "/users/{target}", {"name": "N"}, {**PROTECTED, SELF: 200, OTHER: 403, ADMIN: 200}
    ),
    Case("PATCH", "/users/me", {"name": "N"}, {**PROTECTED, SELF: 200, OTHER: 200, ADMIN: 200}),
    Case("DELETE", "/users/{target}", None, {**PROTECTED, SELF: 204, OTHER: 403, ADMIN: 204}),
    Case("GET", "/users", None, {**PROTECTED, SELF: 403, OTHER: 403, ADMIN: 200}),
    Case("GET", "/users?limit=5", None, {**PROTECTED, SELF: 403, OTHER: 403, ADMIN: 200}),
    Case("POST", "/users/{target}/disable", None, {**PROTECTED, SELF: 403, OTHER: 403, ADMIN: 204}),
    Case("POST", "/users/{target}/enable", None, {**PROTECTED, SELF: 403, OTHER: 403, ADMIN: 204}),
    Case("POST", "/auth/logout", {"all": True}, {**PROTECTED, SELF: 204, OTHER: 204, ADMIN: 204}),
]


@dataclass
class Actors:
    victim: CreatedUser
    tokens: dict[str, str | None]
    ids: dict[str, str]


@pytest.fixture
def actors(gateway: GatewayClient) -> Actors:
    victim, other, admin = gateway.register(), gateway.register(), gateway.register(admin=True)
    tokens: dict[str, str | None] = {
        ANONYMOUS: None,
        FORGED: _forged_token(victim.id),
        SELF: gateway.login(victim)["access_token"],
        OTHER: gateway.login(other)["access_token"],
        ADMIN: gateway.login(admin)["access_token"],
    }
    ids = {ANONYMOUS: victim.id, FORGED: victim.id, SELF: victim.id, OTHER: victim.id}
    ids[ADMIN] = victim.id
    return Actors(victim=victim, tokens=tokens, ids=ids)


def _forged_token(user_id: str) -> str:
    """Well-formed, right claims, admin role, signed by a key this stack never published."""
    key = new_key_set().current
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": user_id,
        "iss": "urn:userflow:local",
        "aud": "urn:userflow:local:api",
        "iat": now,
        "exp": now + 300,
        "jti": "forged",
        "roles": ["user", "admin"],
    }
    private = jwt.PyJWK(key.private_jwk, algorithm="ES256").key
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": key.kid})


@pytest.mark.parametrize("principal", [ANONYMOUS, FORGED, SELF, OTHER, ADMIN])
@pytest.mark.parametrize("case", MATRIX, ids=lambda c: f"{c.method} {c.path}")
def test_given_a_principal_when_calling_a_protected_route_then_the_matrix_status(
    gateway: GatewayClient, actors: Actors, case: Case, principal: str
) -> None:
    path = case.path.format(target=actors.ids[principal])

    response = gateway.request(case.method, path, json=case.body, token=actors.tokens[principal])

    assert response.status == case.expected[principal], response.text
    if response.status in (401, 403):
        assert response.json["message"]
        assert actors.victim.email not in response.text


@pytest.mark.parametrize("principal", [ANONYMOUS, FORGED, OTHER])
def test_given_a_refused_principal_when_writing_then_the_victim_is_unchanged(
    gateway: GatewayClient, actors: Actors, principal: str
) -> None:
    token = actors.tokens[principal]
    victim = actors.victim.id

    gateway.request("PATCH", f"/users/{victim}", json={"name": "Pwned"}, token=token)
    gateway.request("POST", f"/users/{victim}/disable", token=token)
    gateway.request("DELETE", f"/users/{victim}", token=token)

    item = gateway.user_item(victim)
    assert (item["name"]["S"], item["status"]["S"], item["version"]["N"]) == (
        "Auth User",
        "active",
        "1",
    )


@pytest.mark.parametrize(
    "route",
    [
        ("POST", "/auth/login", {"email": "x@example.com", "password": "p"}, 401),
        ("POST", "/auth/refresh", {"refresh_token": "unknown"}, 401),
        ("GET", "/.well-known/jwks.json", None, 200),
        (
            "POST",
            "/users",
            {"email": "pub@example.com", "password": "long enough pw", "name": "P"},
            201,
        ),
    ],
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_given_a_public_route_when_called_without_a_token_then_the_authorizer_is_not_involved(
    gateway: GatewayClient, route: tuple[str, str, Any, int]
) -> None:
    method, path, body, expected = route

    assert gateway.request(method, path, json=body).status == expected


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer not.a.jwt", "Token abc", "Bearer a b"],
)
def test_given_a_malformed_authorization_header_when_calling_then_401_or_403_never_200(
    gateway: GatewayClient, actors: Actors, authorization: str
) -> None:
    response = gateway.request(
        "GET", f"/users/{actors.victim.id}", headers={"authorization": authorization}
    )

    assert response.status in (401, 403)


@pytest.mark.parametrize(
    "body",
    [{"roles": ["user", "admin"]}, {"id": "someone-else"}, {"status": "active"}, {"version": 9}],
)
def test_given_a_user_when_patching_privileged_fields_then_422_and_nothing_changes(
    gateway: GatewayClient, actors: Actors, body: dict[str, Any]
) -> None:
    response = gateway.request("PATCH", "/users/me", json=body, token=actors.tokens[SELF])

    assert response.status == 422
    me = gateway.request("GET", "/users/me", token=actors.tokens[SELF]).json
    assert (me["id"], me["roles"], me["version"]) == (actors.victim.id, ["user"], 1)


@pytest.mark.parametrize(
    "path",
    ["/users/{victim}/", "/users/ME", "/users/me/../{victim}", "/users/%7Bvictim%7D", "/users//me"],
)
def test_given_path_tricks_when_another_user_reads_then_never_the_victims_record(
    gateway: GatewayClient, actors: Actors, path: str
) -> None:
    response = gateway.request(
        "GET", path.format(victim=actors.victim.id), token=actors.tokens[OTHER]
    )

    assert response.status in (400, 403, 404)
    assert actors.victim.email not in response.text


def test_given_spoofed_identity_headers_when_calling_then_the_token_decides(
    gateway: GatewayClient, actors: Actors
) -> None:
    spoofed = {"x-user-id": actors.victim.id, "x-amzn-oidc-identity": actors.victim.id}

    response = gateway.request(
        "GET", f"/users/{actors.victim.id}", token=actors.tokens[OTHER], headers=spoofed
    )

    assert response.status == 403
