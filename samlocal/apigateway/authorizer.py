"""Lambda authorizers of HTTP APIs (payload 2.0), as API Gateway runs them before a route.

A missing or empty identity source answers 401 without calling the authorizer; a denial 403; an
authorizer error 500. Verdicts are cached per identity for ``ReauthorizeEvery`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from samlocal.apigateway.responses import Response, json_response
from samlocal.apigateway.routes import Authorizer, Route
from samlocal.functions import FunctionError, Invoke
from samlocal.intrinsics import ACCOUNT_ID

log = logging.getLogger("samlocal")


class Authorizers:
    """Runs a route's authorizer and remembers verdicts for their TTL."""

    def __init__(self, invoke: Invoke, *, region: str, api_id: str, stage: str) -> None:
        self.invoke = invoke
        self.region = region
        self.api_id = api_id
        self.stage = stage
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any] | None]] = {}
        self._cache_lock = threading.Lock()

    def authorize(
        self, authorizer: Authorizer, route: Route, event: dict[str, Any]
    ) -> tuple[Response | None, dict[str, Any] | None]:
        """(refusal, None) or (None, the context the route function gets)."""
        headers = event["headers"]
        query = event.get("queryStringParameters", {})
        identity = [headers.get(name.lower(), "") for name in authorizer.identity_headers]
        identity += [query.get(name, "") for name in authorizer.identity_query]
        if not all(identity):
            return json_response(401, "Unauthorized"), None
        key = (authorizer.name, tuple(identity))
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            context = cached[1]
        else:
            try:
                context = self._call(authorizer, event, identity)
            except FunctionError:
                return json_response(500, "Internal Server Error"), None
            except Exception:
                log.exception("authorizer %s answered something unusable", authorizer.name)
                return json_response(500, "Internal Server Error"), None
            if authorizer.ttl_seconds > 0:
                with self._cache_lock:
                    self._cache[key] = (now + authorizer.ttl_seconds, context)
        if context is None:
            return json_response(403, "Forbidden"), None
        return None, context

    def _call(
        self, authorizer: Authorizer, event: dict[str, Any], identity: list[str]
    ) -> dict[str, Any] | None:
        """The authorizer's context when it allows, None when it denies."""
        request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        method = event["requestContext"]["http"]["method"]
        request |= {
            "type": "REQUEST",
            "routeArn": (
                f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{self.api_id}/"
                f"{self.stage}/{method}{event['rawPath']}"
            ),
            "identitySource": identity,
        }
        result = self.invoke(authorizer.function, request)
        if not isinstance(result, Mapping):
            raise TypeError("authorizer result is not an object")
        if authorizer.simple_responses:
            allowed = result.get("isAuthorized") is True
        else:
            statements = result.get("policyDocument", {}).get("Statement", [])
            effects = {statement.get("Effect") for statement in statements}
            allowed = "Allow" in effects and "Deny" not in effects
        context = result.get("context") or {}
        if not isinstance(context, Mapping):
            raise TypeError("authorizer context is not an object")
        return dict(context) if allowed else None
