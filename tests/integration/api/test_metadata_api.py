"""Custom attributes through the API functions on moto: stored, merged, limited, refused."""

from __future__ import annotations

import json

import pytest

from tests.support.api_clients import ApiClient, UserFactory


def test_given_registration_with_metadata_when_read_back_then_both_maps_are_there(
    api: ApiClient,
) -> None:
    created = api.request(
        "POST",
        "/users",
        json={
            "email": "meta@example.com",
            "password": "correct horse battery",
            "name": "Meta",
            "metadata": {"company": "Acme", "ünï": ["€", 1.5, None]},
        },
    )

    assert created.status == 201
    assert created.json["metadata"] == {"company": "Acme", "ünï": ["€", 1.5, None]}
    assert created.json["app_metadata"] == {}


def test_given_patches_when_applied_then_keys_merge_null_deletes_and_versions_follow(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()

    first = api.request(
        "PATCH",
        "/users/me",
        json={"metadata": {"plan": "pro", "crm": {"id": 1}}},
        caller=user.caller,
    )
    second = api.request(
        "PATCH",
        "/users/me",
        json={"metadata": {"plan": None, "crm": {"tier": "a"}}},
        headers={"if-match": first.headers["etag"]},
        caller=user.caller,
    )
    read = api.request("GET", "/users/me", caller=user.caller)

    assert first.status == second.status == 200
    assert read.json["metadata"] == {"crm": {"id": 1, "tier": "a"}}
    assert read.headers["etag"] == '"3"'


def test_given_a_user_when_patching_app_metadata_then_403_and_an_admin_may(
    api: ApiClient, make_user: UserFactory
) -> None:
    user, admin = make_user(), make_user(admin=True)

    refused = api.request("PATCH", "/users/me", json={"app_metadata": {"a": 1}}, caller=user.caller)
    granted = api.request(
        "PATCH", f"/users/{user.id}", json={"app_metadata": {"plan": "gold"}}, caller=admin.caller
    )

    assert refused.status == 403
    assert refused.json["message"] == "app_metadata can be written by admins only"
    assert granted.status == 200
    assert api.request("GET", "/users/me", caller=user.caller).json["app_metadata"] == {
        "plan": "gold"
    }


@pytest.mark.parametrize(
    "metadata",
    [
        {"big": "x" * 5000},
        json.loads("{" + '"n":{' * 6 + "}" * 7),
        {f"k{i}": i for i in range(51)},
        {"bad\u0007key": 1},
        json.loads('{"k": "\\ud800"}'),
        json.loads("[1, 2]"),
        "text",
    ],
    ids=["oversize", "too deep", "too many keys", "control key", "lone surrogate", "list", "str"],
)
def test_given_hostile_metadata_when_patched_then_422_and_nothing_changes(
    api: ApiClient, make_user: UserFactory, metadata: object
) -> None:
    user = make_user()

    response = api.request("PATCH", "/users/me", json={"metadata": metadata}, caller=user.caller)

    assert response.status == 422, response.text
    assert api.request("GET", "/users/me", caller=user.caller).headers["etag"] == '"1"'


def test_given_a_body_nested_beyond_any_parser_when_patched_then_an_error_not_a_crash(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()
    body = '{"metadata": ' + '{"n":' * 100_000 + "1" + "}" * 100_001

    response = api.request("PATCH", "/users/me", body=body.encode(), caller=user.caller)

    assert response.status in (400, 422)
