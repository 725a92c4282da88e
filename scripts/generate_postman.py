"""Writes the Postman collection (v2.1) and its local environment from docs/openapi.json.

One folder per OpenAPI tag with a request per operation, and first the README's walk-through as
an ordered, runnable folder whose test scripts check each status and capture the tokens into the
environment. `make postman` rewrites both files; a test fails on drift, and `make test` runs the
walk-through with Newman against a local stack (tests/e2e/docs/test_postman_newman.py).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from scripts.postman_walkthrough import WALKTHROUGH, Step

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "docs" / "openapi.json"
OUTPUT = ROOT / "docs" / "postman" / "userflow.postman_collection.json"
ENVIRONMENT = ROOT / "docs" / "postman" / "userflow-local.postman_environment.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6f1d2a43-6c55-4a8e-9a53-4a4f3c1f2b10")

ENVIRONMENT_VALUES = {
    "baseUrl": "http://127.0.0.1:3000",
    "email": "",
    "password": "correct horse battery staple",
    "new_password": "a new horse battery staple",
    "access_token": "",
    "refresh_token": "",
    "user_id": "",
    "etag": "",
    "verification_token": "",
    "reset_token": "",
}
"""Empty ones are filled by the walk-through's scripts (``email``: a fresh address per run) or,
for the two mailed tokens, pasted from `userflow mail list`."""

PLACEHOLDERS = {
    "email": "{{email}}",
    "password": "{{password}}",
    "refresh_token": "{{refresh_token}}",
    "token": "{{verification_token}}",
    "name": "Ann",
    "code": "123456",
}


def _stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(document: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A small valid-looking value: the required properties, with walk-through variables."""
    schema = _resolve(document, schema)
    if name in PLACEHOLDERS:
        return PLACEHOLDERS[name]
    if "anyOf" in schema:
        return example(document, schema["anyOf"][0], name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {key: example(document, properties[key], key) for key in schema.get("required", [])}
    if kind == "array":
        return [example(document, schema.get("items", {}), name)]
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": True}.get(str(kind), "string")


def url(path: str, query: list[dict[str, str]] | None = None) -> dict[str, Any]:
    segments = [
        f":{part[1:-1]}" if part.startswith("{") else part for part in path.strip("/").split("/")
    ]
    found: dict[str, Any] = {
        "raw": "{{baseUrl}}/" + "/".join(segments),
        "host": ["{{baseUrl}}"],
        "path": segments,
    }
    variables = [s[1:] for s in segments if s.startswith(":")]
    if variables:
        found["variable"] = [{"key": v, "value": "{{" + v + "}}"} for v in variables]
    if query:
        found["query"] = query
        found["raw"] += "?" + "&".join(f"{q['key']}={q['value']}" for q in query)
    return found


def json_body(value: Any) -> dict[str, Any]:
    return {
        "mode": "raw",
        "raw": json.dumps(value, indent=2),
        "options": {"raw": {"language": "json"}},
    }


NO_AUTH = {"type": "noauth"}


def reference_item(document: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> Any:
    request: dict[str, Any] = {"method": method.upper(), "header": [], "url": url(path)}
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = json_body(example(document, content["schema"]))
    if not op.get("security"):
        request["auth"] = NO_AUTH
    request["description"] = op.get("description") or op.get("summary", "")
    return {"id": _stable_id(op["operationId"]), "name": op["operationId"], "request": request}


def walkthrough_item(step: Step) -> dict[str, Any]:
    headers = [{"key": name, "value": value} for name, value in step.headers.items()]
    request: dict[str, Any] = {"method": step.method, "header": headers, "url": url(step.path)}
    if step.body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = json_body(step.body)
    if not step.bearer:
        request["auth"] = NO_AUTH
    request["description"] = step.description
    events = [{"listen": "test", "script": {"type": "text/javascript", "exec": step.tests()}}]
    if step.prerequest:
        script = {"type": "text/javascript", "exec": list(step.prerequest)}
        events.insert(0, {"listen": "prerequest", "script": script})
    return {
        "id": _stable_id("walk", step.name),
        "name": step.name,
        "request": request,
        "event": events,
    }


def build_collection(document: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[Any]] = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            item = reference_item(document, method, path, operation)
            folders.setdefault(operation["tags"][0], []).append(item)
    walkthrough = [
        {
            "id": _stable_id("walk", folder),
            "name": folder,
            "item": [walkthrough_item(s) for s in steps],
        }
        for folder, steps in WALKTHROUGH.items()
    ]
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    return {
        "info": {
            "_postman_id": _stable_id("collection"),
            "name": document["info"]["title"],
            "description": "Generated from docs/openapi.json (`make postman`). Import it with "
            "userflow-local.postman_environment.json, start `make run`, and run the Walk-through "
            "folder in order.",
            "schema": SCHEMA,
        },
        "auth": {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{access_token}}", "type": "string"}],
        },
        "item": [
            {"id": _stable_id("walkthrough"), "name": "Walk-through", "item": walkthrough},
            *(
                {
                    "id": _stable_id("tag", tag),
                    "name": tag,
                    "description": descriptions.get(tag, ""),
                    "item": items,
                }
                for tag, items in folders.items()
                if items
            ),
        ],
    }


def build_environment() -> dict[str, Any]:
    return {
        "id": _stable_id("environment"),
        "name": "Userflow local",
        "values": [
            {
                "key": key,
                "value": value,
                "type": "secret" if "token" in key else "default",
                "enabled": True,
            }
            for key, value in ENVIRONMENT_VALUES.items()
        ],
    }


def render() -> dict[Path, str]:
    document = json.loads(OPENAPI.read_text())
    return {
        OUTPUT: json.dumps(build_collection(document), indent=2) + "\n",
        ENVIRONMENT: json.dumps(build_environment(), indent=2) + "\n",
    }


def main() -> int:
    for path, text in render().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        sys.stdout.write(f"wrote {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
