"""`userflow`: operate a Userflow stack - the local one (`userflow local`) or a deployed one.

Every command names its target stack in its first line of output (on stderr, so that piped
output stays data). With no --stack-name it acts on the running `userflow local` stack, and
refuses to run when there is none: it never falls back to a deployed stack by itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from types import FrameType
from typing import Any

from userflow.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_HUNG_UP,
    EXIT_INTERRUPTED,
    EXIT_STATUS_HELP,
    EXIT_TERMINATED,
    CommandError,
    HungUp,
    Terminated,
)

# Command -> (module that registers it, one-line help). Only the module of the command being run
# is imported: `userflow --help` loads no AWS SDK, JWT or cryptography code.
COMMANDS = {
    "local": ("userflow.commands.local", "run the whole stack locally"),
    "fail-rate": (
        "userflow.commands.fail_rate",
        "show or change the local stack's injected failures",
    ),
    "status": ("userflow.commands.status", "the stack at a glance: alarms, queues, events"),
    "admin": ("userflow.commands.admin", "operator actions on user accounts"),
    "keys": ("userflow.commands.keys", "manage the access-token signing keys"),
    "dlq": ("userflow.commands.dlq", "show and re-drive every dead-letter queue"),
    "events": ("userflow.commands.events", "lifecycle events on the user events bus"),
    "webhooks": ("userflow.commands.webhooks", "signed webhook endpoints"),
    "mail": ("userflow.commands.mail", "the messages the stack sent (local) or where to look"),
    "users": ("userflow.commands.users", "import, export and re-index a stack's users"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="userflow",
        description=__doc__,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((argument for argument in argv if not argument.startswith("-")), None)
    for name, (module, summary) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    _explain(parser)
    return parser


def _explain(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's --help says what it does and what its exit statuses mean."""
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help for choice in action._choices_actions}
        for name, subparser in action.choices.items():
            subparser.formatter_class = argparse.RawDescriptionHelpFormatter
            subparser.description = subparser.description or summaries.get(name)
            subparser.epilog = subparser.epilog or EXIT_STATUS_HELP
            _explain(subparser)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    args = build_parser(arguments).parse_args(arguments)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result: int = args.run(args)
    except CommandError as error:
        print(f"userflow {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        # Operators get AWS's own words (no credentials, no such stack, ...), not a traceback.
        print(f"userflow {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return result


def _terminate(signum: int, frame: FrameType | None) -> Any:
    raise Terminated


def _hang_up(signum: int, frame: FrameType | None) -> Any:
    raise HungUp


def run() -> int:
    """Console-script entry: Ctrl-C, SIGTERM and SIGHUP (a dropped SSH session) end a command
    through its clean-up (temporary rules and queues are removed, messages taken given back,
    summaries printed where there is still somewhere to print them), and a reader that goes
    away (`| head`) ends it quietly. Started under `nohup`, SIGHUP stays ignored."""
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _hang_up)
    try:
        return main()
    except HungUp:
        _quiet_if_gone()
        return EXIT_HUNG_UP
    except Terminated:
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _quiet_if_gone() -> None:
    """After a hang-up the terminal may be gone: what is left to flush goes nowhere, rather than
    into a report of the failed write."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


if __name__ == "__main__":
    sys.exit(run())
