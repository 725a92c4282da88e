"""Entry point of the `userflow` command."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module adds its sub-commands; imported lazily so `userflow --help` stays fast.
COMMAND_MODULES = ("local", "admin", "keys", "dlq", "events", "mail")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="userflow", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"userflow.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except (BotoCoreError, ClientError) as error:
        # Operators get AWS's own words (no credentials, no such stack, ...), not a traceback.
        print(f"userflow {args.command}: {error}", file=sys.stderr)
        return 1
    return result


def run() -> int:
    """Console-script entry: Ctrl-C at any moment ends quietly, as shell tools do."""
    try:
        return main()
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(run())
