"""The README is the front door and the docs site holds the rest (issue 25, point 4); generated
pages are what their generators make."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scripts.generate_cli_reference import OUTPUT as CLI_REFERENCE

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"


def test_given_the_cli_when_its_reference_is_generated_then_the_committed_page_matches() -> None:
    probe = "from scripts.generate_cli_reference import render; print(render(), end='')"
    rendered = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert CLI_REFERENCE.read_text() == rendered, "stale: run `make docs`"


def test_given_the_readme_then_it_is_a_front_door_of_at_most_250_lines() -> None:
    text = README.read_text()

    assert len(text.splitlines()) <= 250
    assert "make run" in text
    assert "make test" in text
    assert "## Documentation" in text


def test_given_the_readme_map_then_every_page_it_names_exists() -> None:
    targets = re.findall(r"\]\((docs/[^)#]+)", README.read_text())

    assert targets
    assert [t for t in targets if not (ROOT / t).exists()] == []


def test_given_the_docs_site_then_every_page_is_in_its_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {
        str(page.relative_to(ROOT / "docs"))
        for page in (ROOT / "docs").rglob("*.md")
        if "examples" not in page.parts
    }

    assert {page for page in pages if f" {page}\n" not in nav} == set()


def test_given_the_cli_page_then_it_leads_to_each_command_and_restates_no_flags() -> None:
    from userflow.cli import COMMANDS

    page = (ROOT / "docs" / "operating" / "cli.md").read_text()

    assert [c for c in COMMANDS if f"(cli-reference.md#userflow-{c}" not in page] == []
    assert re.findall(r"\[--[\w-]+", page) == [], (
        "flags and usage belong to the generated reference"
    )
