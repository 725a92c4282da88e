"""Refuses a template whose table indexes cannot reach production in one CloudFormation update.

CloudFormation creates or deletes at most one global secondary index of a table per stack update
("Cannot perform more than one GSI creation or deletion in a single update"), and cannot change
an index's key schema or projection in place (that is a deletion and a creation). So each table's
indexes in template.yaml may differ from the last release's by one index added or removed, and
by nothing else. The last release's indexes are committed in ``deploy/released-indexes.json``:
after a production deploy, `make record-released-indexes` writes them and the release commits
them (docs/deploy.md, "Every later deploy"). `make deploy` runs this check before deploying, and
the test suite runs it offline (tests/unit/deploy/test_index_changes.py).

    python -m scripts.check_index_changes            # exit 1 naming the tables and indexes
    python -m scripts.check_index_changes --record   # the template's indexes become the record
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scripts import sam_template

RECORD = sam_template.ROOT / "deploy" / "released-indexes.json"
TABLE = "AWS::DynamoDB::Table"


def table_indexes(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each table's global secondary indexes by name: what CloudFormation compares."""
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != TABLE:
            continue
        indexes = resource.get("Properties", {}).get("GlobalSecondaryIndexes", [])
        found[logical_id] = {
            index["IndexName"]: {
                "KeySchema": index["KeySchema"],
                "Projection": index.get("Projection", {}),
            }
            for index in indexes
        }
    return found


def problems(released: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> list[str]:
    """Why ``current`` cannot follow ``released`` in one update (none: it can)."""
    found = []
    for table, indexes in current.items():
        before = released.get(table, {})
        added = sorted(set(indexes) - set(before))
        removed = sorted(set(before) - set(indexes))
        changed = sorted(
            name for name in set(indexes) & set(before) if indexes[name] != before[name]
        )
        if changed:
            found.append(
                f"{table}: index {', '.join(changed)} changed its key schema or projection "
                "(CloudFormation cannot; add a new index under another name, then drop this one "
                "in a later release)"
            )
        if len(added) + len(removed) > 1:
            found.append(
                f"{table}: {len(added) + len(removed)} index creations/deletions in one update "
                f"(added {added or 'none'}, removed {removed or 'none'}); CloudFormation allows "
                "one: spread them over releases"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--template", type=Path, default=sam_template.TEMPLATE)
    parser.add_argument("--record-file", type=Path, default=RECORD)
    parser.add_argument("--record", action="store_true", help="write the template's indexes")
    args = parser.parse_args(argv)
    current = table_indexes(sam_template.load(args.template))
    if args.record:
        args.record_file.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.record_file}")
        return 0
    released = json.loads(args.record_file.read_text())
    found = problems(released, current)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
