"""Entry point of the `userflow` command."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module adds its sub-commands; imported lazily so `userflow --help` stays fast.
COMMAND_MODULES = ("local", "admin", "keys", "dlq", "events")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="userflow", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"userflow.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
