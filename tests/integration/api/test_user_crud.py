"""User record routes, driven through the handlers named by template.yaml against moto."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.api_clients import ApiClient, UserFactory
from userflow.stack import Stack


def test_given_a_valid_registration_when_posted_then_201_with_location_and_no_secret(
    api: ApiClient,
) -> None:
    response = api.request(
        "POST",
        "/users",
        json={"email": " Ann@Example.com ", "password": "correct horse battery", "name": "Ann"},
    )

    assert response.status == 201
    body = response.json
    assert body["email"] == "ann@example.com"
    assert body["roles"] == ["user"]
    assert body["version"] == 1
    assert response.headers["location"] == f"/users/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert "password" not in response.text
    assert "argon2" not in response.text


def test_given_a_registered_email_when_registering_it_again_in_other_case_then_409(
    api: ApiClient, make_user: UserFactory
) -> None:
    make_user(email="ann@example.com")

    response = api.request(
        "POST",
        "/users",
        json={"email": "ANN@example.com", "password": "another good passphrase", "name": "A"},
    )

    assert response.status == 409
    assert response.json == {"message": "Email address is already registered"}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"email": "nope", "password": "correct horse battery", "name": "A"}, "body.email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "correct horse battery"}, "body.name"),
        ({"email": "a@example.com", "password": "correct horse battery", "name": ""}, "name"),
        (
            {"email": "a@example.com", "password": "correct horse battery", "name": "A", "x": 1},
            "body.x",
        ),
        ([1, 2], "body"),
    ],
)
def test_given_invalid_fields_when_registering_then_422_says_where(
    api: ApiClient, body: object, where: str
) -> None:
    response = api.request("POST", "/users", json=body)

    assert response.status == 422
    assert response.json["message"]
    assert where in json.dumps(response.json["details"])


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b'{"email": '])
def test_given_a_malformed_body_when_registering_then_400_or_422_never_500(
    api: ApiClient, raw: bytes
) -> None:
    response = api.request("POST", "/users", body=raw)

    assert response.status in (400, 422)
    assert "message" in response.json


def test_given_an_idempotency_key_when_the_same_registration_repeats_then_one_user(
    api: ApiClient,
) -> None:
    registration = {"email": "idem@example.com", "password": "correct horse battery", "name": "I"}
    headers = {"Idempotency-Key": "key-1"}

    first = api.request("POST", "/users", json=registration, headers=headers)
    second = api.request("POST", "/users", json=registration, headers=headers)
    other_body = api.request(
        "POST", "/users", json={**registration, "name": "Other"}, headers=headers
    )

    assert first.status == second.status == 201
    assert second.json == first.json
    assert other_body.status == 422
    assert "Idempotency-Key" in other_body.json["message"]


def test_given_an_idempotency_key_when_repeated_with_another_password_then_422(
    api: ApiClient,
) -> None:
    registration = {"email": "pw@example.com", "password": "correct horse battery", "name": "P"}
    headers = {"Idempotency-Key": "key-pw"}

    first = api.request("POST", "/users", json=registration, headers=headers)
    other_password = api.request(
        "POST",
        "/users",
        json={**registration, "password": "another long passphrase"},
        headers=headers,
    )

    assert first.status == 201
    assert other_password.status == 422
    assert "Idempotency-Key" in other_password.json["message"]


def test_given_many_concurrent_registrations_of_one_email_then_exactly_one_wins(
    api: ApiClient,
) -> None:
    def register(i: int) -> int:
        return api.request(
            "POST",
            "/users",
            json={"email": "race@example.com", "password": "correct horse battery", "name": str(i)},
        ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(8)))

    assert sorted(statuses) == [201] + [409] * 7


def test_given_a_user_when_reading_self_by_id_and_me_then_200_with_etag(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()

    by_id = api.request("GET", f"/users/{user.id}", caller=user.caller)
    me = api.request("GET", "/users/me", caller=user.caller)

    assert by_id.status == me.status == 200
    assert by_id.json == me.json
    assert by_id.json["id"] == user.id
    assert by_id.headers["etag"] == '"1"'


def test_given_a_user_when_reading_someone_else_then_403(
    api: ApiClient, make_user: UserFactory
) -> None:
    ann, bob = make_user(), make_user()

    response = api.request("GET", f"/users/{bob.id}", caller=ann.caller)

    assert response.status == 403


def test_given_an_admin_when_reading_a_missing_user_then_404(
    api: ApiClient, make_user: UserFactory
) -> None:
    admin = make_user(admin=True)

    response = api.request("GET", "/users/does-not-exist", caller=admin.caller)

    assert response.status == 404
    assert response.json == {"message": "User not found"}


def test_given_a_patch_when_applied_then_version_increments_and_fields_change(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()

    response = api.request(
        "PATCH",
        f"/users/{user.id}",
        json={"name": "New Name", "locale": "en-GB"},
        headers={"If-Match": '"1"'},
        caller=user.caller,
    )

    assert response.status == 200
    assert response.json["name"] == "New Name"
    assert response.json["locale"] == "en-GB"
    assert response.json["version"] == 2
    assert response.headers["etag"] == '"2"'


def test_given_a_stale_if_match_when_patching_then_412_and_nothing_changes(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()
    api.request("PATCH", f"/users/{user.id}", json={"name": "First"}, caller=user.caller)

    stale = api.request(
        "PATCH",
        f"/users/{user.id}",
        json={"name": "Second"},
        headers={"If-Match": '"1"'},
        caller=user.caller,
    )

    assert stale.status == 412
    assert api.request("GET", "/users/me", caller=user.caller).json["name"] == "First"


def test_given_a_malformed_if_match_when_patching_then_422(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()

    response = api.request(
        "PATCH",
        "/users/me",
        json={"name": "X"},
        headers={"If-Match": "yesterday"},
        caller=user.caller,
    )

    assert response.status == 422


def test_given_an_email_change_when_applied_then_the_old_address_is_free_again(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user(email="old@example.com")

    changed = api.request(
        "PATCH",
        "/users/me",
        json={"email": "NEW@example.com", "current_password": user.password},
        caller=user.caller,
    )
    reuse_old = api.request(
        "POST",
        "/users",
        json={"email": "old@example.com", "password": "correct horse battery", "name": "O"},
    )
    reuse_new = api.request(
        "POST",
        "/users",
        json={"email": "new@example.com", "password": "correct horse battery", "name": "N"},
    )

    assert changed.status == 200
    assert changed.json["email"] == "new@example.com"
    assert reuse_old.status == 201
    assert reuse_new.status == 409


def test_given_a_taken_email_when_patching_to_it_then_409(
    api: ApiClient, make_user: UserFactory
) -> None:
    ann, _bob = make_user(), make_user(email="bob@example.com")

    response = api.request(
        "PATCH",
        "/users/me",
        json={"email": "bob@example.com", "current_password": ann.password},
        caller=ann.caller,
    )

    assert response.status == 409


@pytest.mark.parametrize(
    "body",
    [{"roles": ["admin"]}, {"status": "active"}, {"version": 9}, {"email": None}, {"name": None}],
)
def test_given_a_protected_or_required_field_when_patching_then_422(
    api: ApiClient, make_user: UserFactory, body: dict[str, object]
) -> None:
    user = make_user()

    response = api.request("PATCH", "/users/me", json=body, caller=user.caller)

    assert response.status == 422
    assert api.request("GET", "/users/me", caller=user.caller).json["roles"] == ["user"]


def test_given_another_users_record_when_patching_then_403_and_unchanged(
    api: ApiClient, make_user: UserFactory
) -> None:
    ann, bob = make_user(), make_user()

    response = api.request("PATCH", f"/users/{bob.id}", json={"name": "Hacked"}, caller=ann.caller)

    assert response.status == 403
    assert api.request("GET", "/users/me", caller=bob.caller).json["name"] != "Hacked"


def test_given_a_password_change_when_current_password_is_wrong_then_403(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user()

    response = api.request(
        "PATCH",
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": "wrong wrong wrong"},
        caller=user.caller,
    )

    assert response.status == 403


def test_given_a_no_op_patch_when_applied_then_the_version_stays(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user(name="Same")

    response = api.request("PATCH", "/users/me", json={"name": "Same"}, caller=user.caller)

    assert response.status == 200
    assert response.json["version"] == 1


def test_given_a_user_when_deleted_then_204_then_404_and_email_is_free(
    api: ApiClient, make_user: UserFactory
) -> None:
    user = make_user(email="gone@example.com")
    admin = make_user(admin=True)

    deleted = api.request(
        "DELETE",
        f"/users/{user.id}",
        json={"current_password": user.password},
        caller=user.caller,
    )
    again = api.request("DELETE", f"/users/{user.id}", caller=admin.caller)
    reuse = api.request(
        "POST",
        "/users",
        json={"email": "gone@example.com", "password": "correct horse battery", "name": "G"},
    )

    assert deleted.status == 204
    assert deleted.text == ""
    assert again.status == 404
    assert reuse.status == 201


def test_given_a_user_when_deleting_someone_else_then_403(
    api: ApiClient, make_user: UserFactory
) -> None:
    ann, bob = make_user(), make_user()

    assert api.request("DELETE", f"/users/{bob.id}", caller=ann.caller).status == 403
    assert api.request("GET", "/users/me", caller=bob.caller).status == 200


def test_given_users_when_an_admin_pages_through_them_then_each_appears_once(
    api: ApiClient, make_user: UserFactory
) -> None:
    admin = make_user(admin=True)
    created = {make_user().id for _ in range(5)} | {admin.id}
    seen: list[str] = []
    cursor: str | None = None

    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.request("GET", f"/users?{query}", caller=admin.caller)
        assert page.status == 200
        assert all("password_hash" not in item for item in page.json["items"])
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(created)


def test_given_a_non_admin_when_listing_users_then_403(
    api: ApiClient, make_user: UserFactory
) -> None:
    assert api.request("GET", "/users", caller=make_user().caller).status == 403


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "cursor=garbage", "cursor=eyJQSyI6MX0.AAAA"]
)
def test_given_a_bad_limit_or_cursor_when_listing_then_422(
    api: ApiClient, make_user: UserFactory, query: str
) -> None:
    admin = make_user(admin=True)

    response = api.request("GET", f"/users?{query}", caller=admin.caller)

    assert response.status == 422
    assert "message" in response.json


def test_given_a_write_when_stored_then_the_item_names_the_api_request_that_made_it(
    api: ApiClient, stack: Stack, make_user: UserFactory
) -> None:
    user = make_user()

    api.request("PATCH", "/users/me", json={"name": "Traced"}, caller=user.caller)

    item = stack.client("dynamodb").get_item(
        TableName=stack.physical_id("UserRegistrationTable"),
        Key={"PK": {"S": f"USER#{user.id}"}, "SK": {"S": "PROFILE"}},
    )["Item"]
    assert item["last_request_id"] == {"S": api.last_request_id}
