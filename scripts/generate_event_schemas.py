"""Writes the JSON Schema of every lifecycle event (the whole EventBridge event) to schemas/.

Generated from the pydantic detail models, so the committed schemas are what is published; a
unit test fails when they drift. Run: python -m scripts.generate_event_schemas
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from domain.event_mapping import ALL_DETAIL_MODELS
from domain.events import EVENT_SOURCE, DetailType

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(detail_type: DetailType) -> dict[str, Any]:
    """An EventBridge event whose ``detail`` is the model's serialised form."""
    detail = ALL_DETAIL_MODELS[detail_type].model_json_schema(
        mode="serialization", ref_template="#/$defs/{model}"
    )
    definitions = detail.pop("$defs", {})
    # Strict on the user, so a schema check catches any attribute that should not be published.
    definitions["User"]["additionalProperties"] = False
    definitions[f"{detail_type}Detail"] = detail
    return {
        "$schema": DRAFT,
        "$id": f"https://userflow.dev/schemas/{detail_type}.json",
        "title": str(detail_type),
        "description": f"EventBridge event {detail_type} from source {EVENT_SOURCE}",
        "type": "object",
        "required": ["version", "id", "detail-type", "source", "time", "detail"],
        "properties": {
            "version": {"type": "string"},
            "id": {"type": "string"},
            "detail-type": {"const": str(detail_type)},
            "source": {"const": EVENT_SOURCE},
            "account": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}},
            "detail": {"$ref": f"#/$defs/{detail_type}Detail"},
        },
        "$defs": dict(sorted(definitions.items())),
    }


def rendered() -> dict[Path, str]:
    return {
        SCHEMA_DIR / f"{detail_type}.json": json.dumps(event_schema(detail_type), indent=2) + "\n"
        for detail_type in DetailType
    }


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
