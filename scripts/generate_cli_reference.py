"""Writes docs/operating/cli-reference.md: every `userflow` command's `--help` as the CLI prints it.

The help texts are the one source of the commands' flags and exit statuses; the docs site includes
this generated page rather than a copy. `make docs` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "operating" / "cli-reference.md"
WIDTH = "100"  # argparse wraps to $COLUMNS: a fixed width makes the page the same everywhere

HEADER = """# `userflow` command reference

Generated from the CLI's own `--help` (`python -m scripts.generate_cli_reference`, run by
`make docs`); a test fails when it is stale. What the commands are for, and how they pick their
target stack: [Operator CLI](cli.md).
"""


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _pages(parser: argparse.ArgumentParser, epilog: str | None) -> Iterator[tuple[str, str]]:
    """(prog, help) for ``parser`` and each of its subcommands, depth first; the exit-status
    epilog every command shares is shown once, on the top-level page."""
    shown = parser.epilog
    if parser.epilog == epilog and parser.prog != "userflow":
        parser.epilog = None
    yield parser.prog, parser.format_help()
    parser.epilog = shown
    for _, child in _subparsers(parser):
        yield from _pages(child, epilog)


def render() -> str:
    os.environ["COLUMNS"] = WIDTH
    from userflow.cli import COMMANDS, build_parser
    from userflow.errors import EXIT_STATUS_HELP

    sections = [HEADER]
    top = build_parser([])
    sections.append(f"## userflow\n\n```text\n{top.format_help().rstrip()}\n```\n")
    for name in COMMANDS:
        command = dict(_subparsers(build_parser([name])))[name]
        for prog, text in _pages(command, EXIT_STATUS_HELP):
            sections.append(f"## {prog}\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(sections)


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render())
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
