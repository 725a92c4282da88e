"""docs/openapi.json as code generators read it (issue 25, point 7)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.generate_openapi import OUTPUT, public_routes
from scripts.openapi_polish import OPERATIONS, polish, route_shape

DOCUMENT: dict[str, Any] = json.loads(OUTPUT.read_text())
OPERATIONS_IN_DOCUMENT = [
    (method, path, operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]
PUBLIC = {(method.lower(), route_shape(path)) for method, path in public_routes()}


def test_given_the_document_then_operation_ids_are_short_unique_camel_case() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS_IN_DOCUMENT]

    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]{2,30}", found) for found in ids), ids
    assert DOCUMENT["paths"]["/users/{user_id}"]["get"]["operationId"] == "getUser"


def test_given_the_template_routes_then_exactly_the_guarded_ones_require_the_bearer_token() -> None:
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"] == {
        **DOCUMENT["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    for method, path, operation in OPERATIONS_IN_DOCUMENT:
        guarded = (method, route_shape(path)) not in PUBLIC
        assert operation["security"] == ([{"bearerAuth": []}] if guarded else []), path
        if guarded:
            assert {"401", "403"} <= set(operation["responses"]), path
    assert ("post", "/auth/login") in PUBLIC


def test_given_the_document_then_every_operation_has_one_declared_tag() -> None:
    declared = {tag["name"] for tag in DOCUMENT["tags"]}
    for _, path, operation in OPERATIONS_IN_DOCUMENT:
        assert len(operation["tags"]) == 1, path
        assert operation["tags"][0] in declared, path


def test_given_the_document_then_users_me_and_servers_are_documented() -> None:
    me = DOCUMENT["paths"]["/users/me"]["get"]

    assert me["operationId"] == "getCurrentUser"
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/User"
    }
    assert "parameters" not in me
    assert DOCUMENT["servers"][0]["url"] == "http://127.0.0.1:3000"


def test_given_any_error_response_then_details_has_one_shape() -> None:
    details = DOCUMENT["components"]["schemas"]["ErrorBody"]["properties"]["details"]

    assert details == {
        "items": {"$ref": "#/components/schemas/Problem"},
        "type": "array",
        "title": "Details",
    }
    assert set(DOCUMENT["components"]["schemas"]["Problem"]["required"]) == {"location", "problem"}
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]


def test_given_a_route_missing_from_the_table_then_it_still_gets_a_camel_case_id_and_a_tag() -> (
    None
):
    document = {
        "info": {},
        "components": {"schemas": {}},
        "paths": {
            "/users/{user_id}/roles": {
                "post": {
                    "operationId": "grant_role_users__user_id__roles_post",
                    "responses": {"204": {"description": "No Content"}},
                }
            }
        },
    }

    polished = polish(document, public_routes=[])

    operation = polished["paths"]["/users/{user_id}/roles"]["post"]
    assert operation["operationId"] == "grantRole"
    assert operation["tags"] == ["accounts"]
    assert ("post", "/users/{user_id}/roles") not in OPERATIONS


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_given_the_operation_table_then_each_entry_names_a_documented_route(
    method: str, path: str
) -> None:
    assert method in DOCUMENT["paths"].get(path, {}), f"{method} {path}: drop it from OPERATIONS"
