"""Whole classes of hostile input that once answered 500: each must be a deliberate 4xx in the API's
error shape, on every route it can reach."""

from __future__ import annotations

import pytest

from tests.integration.api.test_malformed_requests import ROUTES, fill
from tests.support.api_clients import ApiClient, ApiResponse, CreatedUser, UserFactory

LONE_SURROGATE = "\\ud800"  # as a JSON escape: json.loads makes it a lone surrogate


def assert_refused(response: ApiResponse, *statuses: int) -> None:
    assert response.status in statuses, (response.status, response.text[:300])
    assert set(response.json) <= {"message", "details"}
    assert isinstance(response.json["message"], str)


@pytest.fixture
def admin(make_user: UserFactory) -> CreatedUser:
    return make_user(admin=True)


@pytest.mark.parametrize("cursor", ["%C3%A9.abc", "abc.%C3%A9", "%E2%98%83", "%F0%9F%98%80.x"])
def test_given_a_cursor_with_non_ascii_characters_when_listing_then_422(
    api: ApiClient, admin: CreatedUser, cursor: str
) -> None:
    response = api.request("GET", f"/users?cursor={cursor}", caller=admin.caller)

    assert_refused(response, 422)


@pytest.mark.parametrize("if_match", ['"\u00b2"', '"\u0663"', '"\uff11"', "\u00b9", 'W/"\u2081"'])
def test_given_an_if_match_with_non_ascii_digits_when_patching_then_a_4xx(
    api: ApiClient, admin: CreatedUser, if_match: str
) -> None:
    response = api.request(
        "PATCH",
        "/users/me",
        json={"name": "New"},
        headers={"if-match": if_match},
        caller=admin.caller,
    )

    assert_refused(response, 400, 422)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_given_a_deeply_nested_json_body_on_any_route_when_called_then_400(
    api: ApiClient, admin: CreatedUser, method: str, path: str
) -> None:
    body = b"[" * 100_000 + b"]" * 100_000

    response = api.request(method, fill(path, "me"), body=body, caller=admin.caller)

    assert response.status < 500, response.text[:300]
    if response.status >= 400:
        assert set(response.json) <= {"message", "details"}


SURROGATE_BODIES = {
    ("POST", "/users"): ["email", "password", "name", "phone", "locale", "timezone"],
    ("PATCH", "/users/{id}"): [
        "email",
        "password",
        "current_password",
        "name",
        "phone",
        "locale",
        "timezone",
    ],
    ("POST", "/auth/login"): ["email", "password"],
    ("POST", "/auth/refresh"): ["refresh_token"],
    ("POST", "/auth/logout"): ["refresh_token"],
}
VALID = {
    "email": '"someone@example.com"',
    "password": '"a long enough passphrase"',
    "current_password": '"passphrase number 0"',
    "name": '"Someone"',
    "phone": '"+441234567890"',
    "locale": '"en-GB"',
    "timezone": '"Europe/London"',
    "refresh_token": '"abc"',
}


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        (method, path, field)
        for (method, path), names in SURROGATE_BODIES.items()
        for field in names
    ],
)
def test_given_a_lone_surrogate_in_a_string_field_when_sent_then_422(
    api: ApiClient, admin: CreatedUser, method: str, path: str, field: str
) -> None:
    fields = SURROGATE_BODIES[(method, path)]
    values = {name: VALID[name] for name in fields if name in ("email", "password", "name")}
    if "current_password" in fields:
        values = {"password": VALID["password"], "current_password": VALID["current_password"]}
    values[field] = f'"x{LONE_SURROGATE}yzzzzzzzzzzzz"'
    body = ("{" + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}").encode()

    response = api.request(method, fill(path, "me"), body=body, caller=admin.caller)

    assert_refused(response, 422)


def test_given_a_string_for_all_when_logging_out_then_422_not_sign_out_everywhere(
    api: ApiClient, admin: CreatedUser
) -> None:
    response = api.request("POST", "/auth/logout", json={"all": "yes"}, caller=admin.caller)

    assert_refused(response, 422)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", '/users/a"b'),
        ("GET", "/users/\u0001x"),
        ("GET", "/users/\U0001f600"),
        ("PATCH", "/users/me/"),
        ("DELETE", "/users/a\\b"),
        ("POST", '/users/"x"/disable'),
    ],
)
def test_given_a_path_that_reaches_a_function_but_none_of_its_routes_then_the_api_error_shape(
    api: ApiClient, admin: CreatedUser, method: str, target: str
) -> None:
    response = api.request(method, target, json={}, caller=admin.caller)

    assert response.status == 404
    assert response.json == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("email", "statuses"),
    [
        ("\u00e9l\u00e8ve@exemple.fr", {202}),  # non-ASCII, valid
        ("zo\u00eb@xn--bcher-kva.de", {202}),
        ("a\u0001b@example.com", {202, 422}),  # a control character: never a 5xx either way
        ("a\u200bb@example.com", {202, 422}),  # a zero-width space
        ("x" * 10_000 + "@example.com", {422}),
        (123, {422}),
        (["ann@example.com"], {422}),
        ({"email": "ann@example.com"}, {422}),
        (None, {422}),
    ],
)
def test_given_hostile_addresses_when_asking_for_a_reset_then_202_or_422_never_5xx(
    api: ApiClient, email: object, statuses: set[int]
) -> None:
    response = api.request("POST", "/auth/forgot-password", json={"email": email})

    assert response.status in statuses, (response.status, response.text[:300])
    if response.status == 422:
        assert_refused(response, 422)


def test_given_a_lone_surrogate_in_an_address_when_asking_for_a_reset_then_422(
    api: ApiClient,
) -> None:
    body = b'{"email": "ann' + LONE_SURROGATE.encode() + b'@example.com"}'

    response = api.request("POST", "/auth/forgot-password", body=body)

    assert_refused(response, 422)
