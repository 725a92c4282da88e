"""Generates docs/openapi.json from the API functions' resolvers, as template.yaml routes them.

Each API function has its own Powertools resolver; Powertools' ``OpenAPIMerge`` merges their
schemas so that what is published is exactly what the code validates. `make openapi` rewrites it;
a test fails on drift.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

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
    from userflow.local.template import load_template

    template = load_template(ROOT / "template.yaml")
    routes = []
    for logical_id in template.of_type("AWS::Serverless::Function"):
        properties = template.function_properties(logical_id)
        module = str(properties["Handler"]).rpartition(".")[0]
        for event in properties.get("Events", {}).values():
            if event.get("Type") == "HttpApi":
                routes.append((module, event.get("Properties", {})))
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


def build_document() -> dict[str, Any]:
    """Powertools' ``OpenAPIMerge`` over the routed functions' resolvers. Its ``discover`` is not
    used: it finds resolvers by a literal ``APIGatewayHttpResolver(...)`` call, and ours come from
    ``handlers.http.create_resolver``; the template says which modules serve the API."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    # A route served by two functions is a template bug: fail rather than keep either.
    merge = OpenAPIMerge(title=TITLE, version=VERSION, description=DESCRIPTION, on_conflict="error")
    for module_name in api_handler_modules():
        app = importlib.import_module(module_name).app
        schema = app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)
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
