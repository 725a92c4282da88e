"""A battery of bad (and borderline) requests for every API route, and what each function answers.

``tests/integration/api/golden/api_refusals.json`` holds the answers captured from the Powertools
resolver the API functions used before their own router (handlers/router.py) replaced it (the
MFA and passkey routes included: captured from main's functions as they merged, still on
Powertools): statuses, headers and bodies of every 400, 401, 403, 404, 415 and 422 must stay
as they were. Regenerate only on purpose:
``UPDATE_GOLDEN=1 pytest tests/integration/api/test_api_refusals.py``.

Requests are described as data (so the golden file says what was sent) and turned into payload
2.0 events here; each runs the function's real handler in-process, against moto.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from samlocal.apigateway.routes import api_from_template
from samlocal.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
GOLDEN = TEMPLATE.parent / "tests" / "integration" / "api" / "golden" / "api_refusals.json"

NOBODY = "00000000-0000-4000-8000-00000000dead"
# A session's claims as the authorizer passes them; its login long ago (never recent).
SESSION = {"sid": "battery-session", "auth_time": 1700000000, "amr": "pwd"}
CALLERS: dict[str, dict[str, Any] | None] = {
    # Nobody with these ids exists: requests that pass validation end in the domain's refusals.
    "admin": {"sub": NOBODY, "roles": "user,admin", "gen": 0, **SESSION},
    "user": {"sub": NOBODY, "roles": "user", "gen": 0, **SESSION},
    "none": None,
    "no-generation": {"sub": NOBODY, "roles": "user", **SESSION},
    "bad-generation": {"sub": NOBODY, "roles": "user", "gen": "x", **SESSION},
    "no-session": {"sub": NOBODY, "roles": "user", "gen": 0, "auth_time": 1700000000},
    "bad-auth-time": {"sub": NOBODY, "roles": "user", "gen": 0, **SESSION, "auth_time": "x"},
}
FIELDS = (
    "email",
    "password",
    "name",
    "phone",
    "locale",
    "timezone",
    "refresh_token",
    "all",
    "token",
    "current_password",
    "code",
    "recovery_code",
    "mfa_token",
    "device_token",
    "challenge_id",
    "credential",
)
WRONG_VALUES: tuple[Any, ...] = (5, [], {}, None, True, "", "\ud800", "\u0000x", "x" * 1100)
BODIES: tuple[str | None, ...] = (
    None,
    "",
    " ",
    "{",
    "null",
    "[]",
    "[1]",
    "[{}]",
    '[{"email": 5}]',
    '"text"',
    "42",
    "true",
    "{}",
    '{"unexpected": 1}',
    '{"a": ' * 40 + "1" + "}" * 40,
    "[" * 1100 + "]" * 1100,
    '{"email": "a@example.com", "password": ' + "1" * 4301 + "}",
    '{"email": "a@example.com"',
    "{'email': 'single quotes'}",
    '{"email": NaN}',
    '{"email": "a@example.com", "email": 5}',
)
CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/jsonx",
    "",
)
QUERIES = (
    "limit=",
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=1.5",
    "limit=1e9",
    "limit=-1",
    "limit=1,2",
    "limit=1&limit=2",
    "limit=%FF",
    "limit=%D9%A3",
    "limit=25&unknown=1",
    "cursor=",
    "cursor=x",
    "cursor=a.b",
    "cursor=" + "A" * 1025,
    "cursor=%00",
    "cursor=%C3%A9.%C3%A9",
    "cursor=a.b,c.d",
    "cursor=a.b&cursor=c.d",
    "limit=0&cursor=x",
)
IF_MATCH = ("", "garbage", '"1"', "*", 'W/"2"', '"1", "2"', '"99999999999999999999"', '"\u00b2"')
IDEMPOTENCY_KEYS = ("", "k" * 201, "\u00e9", "a,b", " ")
PATH_VALUES = (
    "me",
    NOBODY,
    "a b",
    "%00",
    "\u00fc",
    "\u2603",
    "a/b",
    "",
    "me\n",
    "x" * 300,
)


def api_routes() -> list[tuple[str, str, str]]:
    """(method, path, function) of every route in template.yaml."""
    api = api_from_template(load_template(TEMPLATE))
    return sorted({(r.method, r.path, r.function) for r in api.routes})


def _fill(path: str, value: str) -> str:
    return "/".join(value if part.startswith("{") else part for part in path.split("/"))


def _request(method: str, path: str, function: str, **fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"function": function, "method": method, "path": path}
    request.update({k: v for k, v in fields.items() if v is not None})
    return request


def battery() -> Iterator[dict[str, Any]]:
    """Every request of the battery, route by route."""
    for method, template_path, function in api_routes():
        path = _fill(template_path, "me")
        caller = "admin"
        yield from _paths(method, template_path, function)
        yield _request("PUT", path, function, caller=caller)
        yield _request("OPTIONS", path, function, caller=caller)
        for name in CALLERS:
            yield _request(method, path, function, caller=name)
        if method in ("POST", "PATCH", "DELETE"):
            yield from _bodies(method, path, function)
        if template_path == "/users" and method == "GET":
            for query in QUERIES:
                yield _request(method, path, function, caller=caller, query=query)
        if method == "PATCH":
            for tag, body in itertools.product(IF_MATCH, ('{"name": "New"}', "{")):
                headers = {"if-match": tag}
                yield _request(method, path, function, caller=caller, headers=headers, body=body)
        if template_path == "/users" and method == "POST":
            for key in IDEMPOTENCY_KEYS:
                yield _request(
                    method,
                    path,
                    function,
                    headers={"idempotency-key": key},
                    body='{"email": 5}',
                )


def _paths(method: str, template_path: str, function: str) -> Iterator[dict[str, Any]]:
    if "{" in template_path:
        for value in PATH_VALUES:
            yield _request(method, _fill(template_path, value), function, caller="admin")
    path = _fill(template_path, "me")
    for variant in (path + "/", path.upper(), "/prod" + path, path + "\n", "//" + path[1:]):
        yield _request(method, variant, function, caller="admin")
    yield _request(method, "/prod" + path, function, caller="admin", stage="prod")
    yield _request(method, path, function, caller="admin", stage="prod")


def _bodies(method: str, path: str, function: str) -> Iterator[dict[str, Any]]:
    for body in BODIES:
        yield _request(method, path, function, caller="admin", body=body)
    for field in FIELDS:
        for value in WRONG_VALUES:
            body = json.dumps({field: value})
            yield _request(method, path, function, caller="admin", body=body)
    for content_type in CONTENT_TYPES:
        for body in ("", '{"email": 5}'):
            headers = {"content-type": content_type}
            yield _request(method, path, function, caller="admin", headers=headers, body=body)
    for raw in (b"\xff\xfe", b'{"email": 5}', '{"name": "\u00e9"}'.encode("latin-1")):
        yield _request(
            method,
            path,
            function,
            caller="admin",
            headers={},
            body=base64.b64encode(raw).decode(),
            base64=True,
        )
    yield _request(method, path, function, caller="admin", body="not base64!", base64=True)
    yield _request(
        method, path, function, caller="admin", headers={"Content-Type": "text/plain"}, body="{}"
    )


def source_ip_of(request: dict[str, Any]) -> str:
    """An address of its own for each request (from what it sends): the per-source limits count
    requests, and the battery is about refusals, not about a source sending thousands."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).digest()
    return "10.{}.{}.{}".format(*digest[:3])


def event_of(request: dict[str, Any]) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would send for ``request``."""
    method, path = request["method"], request["path"]
    query = request.get("query", "")
    headers = {"content-type": "application/json", "user-agent": "battery"}
    headers.update(request.get("headers", {}))
    if "content-type" in headers and not headers["content-type"]:
        del headers["content-type"]
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "battery",
        "domainName": "battery.example.com",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip_of(request),
            "userAgent": "battery",
        },
        "requestId": "battery-request",
        "routeKey": f"{method} {path}",
        "stage": request.get("stage", "$default"),
        "time": "25/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795600000000,
    }
    caller = CALLERS[request.get("caller", "none")]
    if caller is not None:
        context["authorizer"] = {"lambda": dict(caller)}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context["routeKey"],
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": bool(request.get("base64", False)),
    }
    if query:
        joined: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        event["queryStringParameters"] = joined
    if "body" in request:
        event["body"] = request["body"]
    return event


RANDOM_FIELDS = frozenset({"challenge", "challenge_id", "allowCredentials"})
"""Values in the answers that pass (passkey sign-in options) made fresh for each request or
each stack (challenges; decoy credentials, drawn from the stack's secret): kept as present, not
as they are."""


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<random>" if k in RANDOM_FIELDS else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def answer(request: dict[str, Any], context: Any) -> dict[str, Any]:
    """What the function's handler returns for ``request`` (or which exception it raises)."""
    template = load_template(TEMPLATE)
    handler_path = str(template.function_properties(request["function"])["Handler"])
    module_name, _, attribute = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    try:
        result = handler(event_of(request), context)
    except Exception as error:  # recorded: no request may crash a function
        return {"raises": type(error).__name__}
    body = result.get("body")
    if body:
        # pydantic names some union members after their validators' reprs, which hold memory
        # addresses (logout's refresh_token): the one part of an answer that is not reproducible.
        body = masked(json.loads(re.sub(r" at 0x[0-9a-f]+", " at 0x?", body)))
    return {
        "statusCode": int(result["statusCode"]),
        "headers": result.get("headers"),
        "cookies": result.get("cookies"),
        "isBase64Encoded": result.get("isBase64Encoded"),
        "body": body,
    }
