"""Prints what each function deploys, as `sam build` packages it, and fails past a size budget.

Stages the artifacts exactly as `make build` does (scripts/build_artifacts.py), then measures each
function's code and the layers it uses, unzipped (Lambda's 250 MB limit counts this) and zipped
(what is uploaded and what a cold start downloads).
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

from scripts import build_artifacts, sam_template

# Budgets that keep cold starts short; well under Lambda's 250 MB unzipped limit.
MAX_CODE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 60 * 1024 * 1024
# The password blocklist's data comes on top, for the three functions that carry it (template.yaml,
# PasswordBlocklistLayer): it is looked up on disk, never loaded (benchmarks/password_blocklist.py).
BLOCKLIST_LAYER = "build/" + build_artifacts.LAYERS["PasswordBlocklistLayer"][0]
MAX_BLOCKLIST_BYTES = 64 * 1024 * 1024


def unzipped_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def zipped_size(directory: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.tell()


def _layer_dirs(template: dict[str, Any], function: str) -> list[Path]:
    layers = sam_template.resources_of_type(template, sam_template.LAYER)
    refs = sam_template.function_property(template, function, "Layers") or []
    names = [ref["Ref"] for ref in refs if isinstance(ref, dict) and "Ref" in ref]
    return [
        sam_template.ROOT / "build" / build_artifacts.LAYERS[name][0]
        for name in names
        if name in layers
    ]


def report(template: dict[str, Any]) -> tuple[list[str], bool]:
    """Table lines, and whether every function stays within budget."""
    sizes: dict[Path, tuple[int, int]] = {}

    def measure(directory: Path) -> tuple[int, int]:
        if directory not in sizes:
            sizes[directory] = (unzipped_size(directory), zipped_size(directory))
        return sizes[directory]

    mb = 1024 * 1024
    lines = [f"{'function':32} {'code':>9} {'layers':>9} {'total':>9} {'zipped':>9}  (MB)"]
    lean = True
    for name in sorted(sam_template.resources_of_type(template, sam_template.FUNCTION)):
        code_uri = sam_template.function_property(template, name, "CodeUri")
        code, code_zip = measure(sam_template.ROOT / code_uri)
        directories = _layer_dirs(template, name)
        layers = [measure(d) for d in directories]
        layer_bytes = sum(u for u, _ in layers)
        zipped = code_zip + sum(z for _, z in layers)
        total = code + layer_bytes
        blocklist = sum(
            measure(d)[0] for d in directories if d == sam_template.ROOT / BLOCKLIST_LAYER
        )
        over = (
            code > MAX_CODE_BYTES
            or total - blocklist > MAX_TOTAL_BYTES
            or blocklist > MAX_BLOCKLIST_BYTES
        )
        lean = lean and not over
        lines.append(
            f"{name:32} {code / mb:9.2f} {layer_bytes / mb:9.2f} {total / mb:9.2f} "
            f"{zipped / mb:9.2f}{'  OVER BUDGET' if over else ''}"
        )
    budget = (
        f"code <= {MAX_CODE_BYTES / mb:.0f} MB, code + layers <= {MAX_TOTAL_BYTES / mb:.0f} MB"
        f" plus the password blocklist <= {MAX_BLOCKLIST_BYTES / mb:.0f} MB where carried"
    )
    lines.append(f"budget: {budget}")
    return lines, lean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-build", action="store_true", help="measure build/ as it is")
    args = parser.parse_args(argv)
    if not args.no_build:
        build_artifacts.main([])
    lines, lean = report(sam_template.load())
    print("\n".join(lines))
    return 0 if lean else 1


if __name__ == "__main__":
    sys.exit(main())
