"""Generates docs/openapi.json from the API functions' resolvers, as template.yaml routes them.

Each API function has its own Powertools resolver; the document merges their schemas so that what
is published is exactly what the code validates. `make openapi` rewrites it; a test fails on drift.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "openapi.json"
# Importing handlers reads these; their values never reach the document.
PLACEHOLDER_ENV = {
    "TABLE_NAME": "UserRegistrationTable",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def api_handler_modules() -> list[str]:
    from userflow.local.template import load_template

    template = load_template(ROOT / "template.yaml")
    modules = set()
    for logical_id in template.of_type("AWS::Serverless::Function"):
        properties = template.function_properties(logical_id)
        if any(e.get("Type") == "HttpApi" for e in properties.get("Events", {}).values()):
            modules.add(str(properties["Handler"]).rpartition(".")[0])
    return sorted(modules)


REQUEST_ID_HEADER = "apigw-requestid"


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
    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    document: dict[str, Any] = {}
    for module_name in api_handler_modules():
        app = importlib.import_module(module_name).app
        schema = json.loads(
            app.get_openapi_json_schema(
                title="Userflow API",
                version="1.0.0",
                description="User management: registration, tokens, user records. See README.",
            )
        )
        if not document:
            document = {**schema, "paths": {}, "components": {"schemas": {}}}
        for path, operations in schema.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return with_request_id_header(document)


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
