"""Generates docs/openapi.json from the API functions' routes, as template.yaml routes them.

Each API function has its own router (handlers/router.py). Its route table is handed to
Powertools' OpenAPI generator, here only, never in a function: each route is registered on a
Powertools ``APIGatewayHttpResolver`` with the same rule, method, documentation and signature
(``Query``/``Header``/``Path``/``Body`` and ``Response`` as Powertools spells them), and
``OpenAPIMerge`` merges the functions' schemas, so that what is published is what the code
validates. `make openapi` rewrites it; a test fails on drift.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from handlers import router

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from scripts.openapi_polish import polish

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "openapi.json"
# Importing handlers reads these; their values never reach the document.
PLACEHOLDER_ENV = {
    "TABLE_NAME": "UserRegistrationTable",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def api_routes() -> list[tuple[str, dict[str, Any]]]:
    """(handler module, HttpApi event properties) of every route in the template."""
    from userflow.template import userflow_template

    template = userflow_template()
    routes = []
    for event in template.function_events("HttpApi"):
        handler = str(template.function_properties(event.function)["Handler"])
        routes.append((handler.rpartition(".")[0], event.properties))
    return routes


def api_handler_modules() -> list[str]:
    return sorted({module for module, _ in api_routes()})


def public_routes() -> list[tuple[str, str]]:
    """The routes API Gateway serves with no authorizer (``Auth: {Authorizer: NONE}``)."""
    return [
        (str(route["Method"]), str(route["Path"]))
        for _, route in api_routes()
        if (route.get("Auth") or {}).get("Authorizer") == "NONE"
    ]


REQUEST_ID_HEADER = "apigw-requestid"
TITLE, VERSION = "Userflow API", "1.0.0"
DESCRIPTION = (
    "User management: registration, sessions, recovery, second factors, passkeys and user"
    ' records. Errors are always `{"message": ..., "details"?: [{"location", "problem"}]}`.'
    " Protected operations take the access token of a login as `Authorization: Bearer <token>`."
)


def with_request_id_header(document: dict[str, Any]) -> dict[str, Any]:
    """API Gateway HTTP APIs answer every request with ``apigw-requestid``; the same id is the
    ``correlation_id`` of the lifecycle event the request caused."""
    document.setdefault("components", {})["headers"] = {
        "RequestId": {
            "description": "Id of this request; the correlation_id of the events it caused",
            "schema": {"type": "string"},
        }
    }
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})[REQUEST_ID_HEADER] = {
                    "$ref": "#/components/headers/RequestId"
                }
    return document


def powertools_annotation(annotation: Any) -> Any:
    """``annotation`` with our parameter markers and ``Response`` as Powertools' own."""
    from aws_lambda_powertools.event_handler import Response

    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        return Annotated[(inner, *(powertools_marker(item) for item in metadata))]
    if get_origin(annotation) is router.Response:
        (body,) = get_args(annotation)
        return Response[body]  # type: ignore[valid-type]
    return Response if annotation is router.Response else annotation


def powertools_marker(item: Any) -> Any:
    """Powertools' ``Query``/``Header``/``Path``/``Body`` for ours, with the same arguments."""
    from aws_lambda_powertools.event_handler.openapi import params

    marker = item() if isinstance(item, type) and issubclass(item, router.Param) else item
    if not isinstance(marker, router.Param):
        return item
    arguments: dict[str, Any] = {**marker.field}
    if marker.default is not inspect.Parameter.empty:
        arguments["default"] = marker.default
    if isinstance(marker, router.Body):
        arguments["embed"] = marker.embed
    if isinstance(marker, router.Header):
        arguments["convert_underscores"] = marker.convert_underscores
    return getattr(params, type(marker).__name__)(alias=marker.alias, **arguments)


def powertools_handler(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` as Powertools reads a route: same name and docstring, its signature translated."""
    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    parameters = [
        parameter.replace(annotation=powertools_annotation(hints.get(name, parameter.annotation)))
        for name, parameter in signature.parameters.items()
    ]
    returns = powertools_annotation(hints.get("return", signature.return_annotation))

    @functools.wraps(func)
    def documented(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    documented.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=returns
    )
    return documented


def powertools_resolver(app: router.Router) -> APIGatewayHttpResolver:
    """A Powertools resolver with ``app``'s routes, as the functions had before their router."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    resolver = APIGatewayHttpResolver(enable_validation=True)
    for route in app.routes:
        resolver.route(route.rule, route.method, **route.openapi)(powertools_handler(route.func))
    return resolver


def build_document() -> dict[str, Any]:
    """Powertools' ``OpenAPIMerge`` over the routed functions' routes (its ``discover`` finds
    resolvers by a literal ``APIGatewayHttpResolver(...)`` call; the template says which modules
    serve the API)."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    # A route served by two functions is a template bug: fail rather than keep either.
    merge = OpenAPIMerge(title=TITLE, version=VERSION, description=DESCRIPTION, on_conflict="error")
    for module_name in api_handler_modules():
        resolver = powertools_resolver(importlib.import_module(module_name).app)
        schema = resolver.get_openapi_json_schema(
            title=TITLE, version=VERSION, description=DESCRIPTION
        )
        merge.add_schema(json.loads(schema))
    document = merge.get_openapi_schema()
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return with_request_id_header(polish(document, public_routes()))


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
