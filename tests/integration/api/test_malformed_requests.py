"""No route answers 500 to a malformed body, header, query or path; every route is probed."""

from __future__ import annotations

import pytest

from samlocal.apigateway.routes import api_from_template
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE, ApiClient, ApiResponse, UserFactory

ROUTES = sorted(
    {(r.method, r.path) for r in api_from_template(load_template(TEMPLATE)).routes},
)
BODIES = [
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b'{"email": 5, "password": [], "name": {}}',
    b'{"refresh_token": null, "all": "yes"}',
    b"\xff\xfe\x00",
    b'{"name": "' + b"x" * 200_000 + b'"}',
    b'{"a": ' * 50 + b"1" + b"}" * 50,
    b'{"email": "a@example.com", "password": ' + b"1" * 4301 + b"}",  # past int() digit limit
]
HEADERS = [
    {"if-match": "garbage"},
    {"if-match": '"99999999999999999999999999"'},
    {"idempotency-key": "k" * 5000},
    {"content-type": "text/plain"},
    {"content-type": "application/octet-stream"},
]
QUERIES = ["limit=-1", "limit=1&limit=2", "cursor=%%%", "cursor=" + "A" * 5000, "limit=1e9"]
PATH_VALUES = ["%00", "..", "a" * 2000, "%E2%98%83", "me"]


def fill(path: str, value: str) -> str:
    return "/".join(value if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_given_malformed_input_on_any_route_when_called_then_never_a_500(
    api: ApiClient, make_user: UserFactory, method: str, path: str
) -> None:
    admin = make_user(admin=True)
    statuses: list[tuple[str, object, ApiResponse]] = []
    for value in PATH_VALUES:
        for body in BODIES:
            target = fill(path, value)
            statuses.append(
                (
                    target[:40],
                    body[:20],
                    api.request(method, target, body=body, caller=admin.caller),
                )
            )
        for headers in HEADERS:
            target = fill(path, value)
            response = api.request(method, target, body=b"{}", headers=headers, caller=admin.caller)
            statuses.append((target[:40], str(headers)[:40], response))
        for body in (b"\xff", b"\xff\xfe{}"):  # not UTF-8, no content type: sent as base64
            target = fill(path, value)
            response = api.request(
                method, target, body=body, headers={"content-type": ""}, caller=admin.caller
            )
            statuses.append((target[:40], body, response))
    for query in QUERIES:
        target = f"{fill(path, 'me')}?{query}"
        statuses.append((target[:60], b"", api.request(method, target, caller=admin.caller)))

    server_errors = [
        (where, what, r.status, r.text[:200]) for where, what, r in statuses if r.status >= 500
    ]
    assert server_errors == []
    errors_without_message = [
        (where, what, r.status, r.text[:200])
        for where, what, r in statuses
        if r.status >= 400 and "message" not in r.json
    ]
    assert errors_without_message == []
