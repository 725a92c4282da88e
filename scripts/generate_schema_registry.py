"""Writes the EventBridge schema registry into template.yaml: one `AWS::EventSchemas::Registry`
and one `AWS::EventSchemas::Schema` per event type, from the committed schemas (schemas/), so
subscribers in other languages download code bindings (docs/events.md, "Event schemas").

The registry takes OpenAPI 3 or JSON Schema draft 4, not the 2020-12 schemas we commit: each is
converted (``$defs`` -> ``definitions``, ``const`` -> a one-value ``enum``, ``$id`` -> ``id``;
the conditional keywords draft 4 lacks are left out, so the registry's copy is looser than the
committed schema, never stricter; so are titles and descriptions, to keep the template small).
Generated between two marker lines, as the log groups are; a test fails when they drift
(`python -m scripts.generate_schema_registry` rewrites them).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from scripts.generate_event_schemas import SCHEMA_DIR
from scripts.generated_sections import replace_section, rewrite_template

BEGIN = (
    "  # ---- BEGIN generated: event schema registry (python -m scripts.generate_schema_registry)\n"
)
END = "  # ---- END generated: event schema registry\n"
DRAFT_4 = "http://json-schema.org/draft-04/schema#"
_NOT_IN_DRAFT_4 = {"if", "then", "else", "propertyNames"}
_PROSE = {"title", "description"}
"""Left out of the registry's copy, which sits in the template: the committed schemas keep it."""
REGISTRY = """  UserEventsSchemaRegistry:
    Type: AWS::EventSchemas::Registry
    Properties:
      RegistryName: !Sub ${AWS::StackName}-user-events
      Description: Schemas of every event on the user events bus (source userflow.users)
"""
SCHEMA = """  {name}EventSchema:
    Type: AWS::EventSchemas::Schema
    Properties:
      RegistryName: !GetAtt UserEventsSchemaRegistry.RegistryName
      SchemaName: userflow.users@{name}
      Type: JSONSchemaDraft4
      Content: '{content}'
"""


def draft_4(node: Any) -> Any:
    """A 2020-12 schema (as generate_event_schemas writes them) in draft 4's words."""
    if isinstance(node, list):
        return [draft_4(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in _NOT_IN_DRAFT_4 or key in _PROSE:
            continue
        if key == "$schema":
            converted[key] = DRAFT_4
        elif key == "$id":
            converted["id"] = value
        elif key == "$defs":
            converted["definitions"] = {name: draft_4(d) for name, d in value.items()}
        elif key == "$ref":
            converted[key] = value.replace("#/$defs/", "#/definitions/")
        elif key == "const":
            converted["enum"] = [value]
        elif key == "properties":
            converted[key] = {name: draft_4(p) for name, p in value.items()}
        else:
            converted[key] = draft_4(value)
    return converted


def render(text: str) -> str:
    blocks = [REGISTRY]
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        content = json.dumps(draft_4(json.loads(path.read_text())), separators=(",", ":"))
        blocks.append(SCHEMA.format(name=path.stem, content=content.replace("'", "''")))
    return replace_section(text, BEGIN, END, "\n".join(blocks), "schema-registry")


def main() -> int:
    return rewrite_template(render, "schema registry")


if __name__ == "__main__":
    sys.exit(main())
