"""`userflow mail list|tail`: the messages the local stack sent (verification, reset, notices).

Locally, every message moto's SES accepted is journaled (``samlocal/ses/journal.py``). On
AWS, mail goes through Amazon SES, which keeps no copy to read back: these commands say where to
look instead (SES sending statistics, the configuration set's event destination).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from samlocal.ses import read_journal
from userflow.local_state import mail_journal_file
from userflow.stack import Stack, add_stack_arguments, resolve_stack

POLL_SECONDS = 0.2


def on_aws(stack: Stack) -> str:
    configuration_set = stack.resources.get("MailConfigurationSet", {}).get("physical_id", "?")
    region = stack.region or "<region>"
    return (
        f"{stack.name} sends mail through Amazon SES, which keeps no copy for userflow to show.\n"
        "Where to look:\n"
        "  - SES sending statistics: console SES > Account dashboard, or\n"
        f"    aws ses get-send-statistics --region {region}\n"
        f"  - the configuration set {configuration_set}: its event destination publishes every\n"
        "    send, delivery, bounce, complaint and rejection as CloudWatch metrics (namespace\n"
        "    AWS/SES, dimension kind = verify_email | reset_password | email_changed)\n"
        "  - failures SES did not accept: userflow dlq list (MailDeadLetterQueue)"
    )


def _matches(message: dict[str, Any], to: str | None) -> bool:
    return to is None or to.strip().lower() in message["to"].lower().split(", ")


def _show(message: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(message), flush=True)
        return
    print(f"--- {message['sent_at']}  to {message['to']}  {message['subject']}", flush=True)
    print(message["text"].rstrip("\n"), flush=True)


def run_list(args: argparse.Namespace) -> int:
    stack = resolve_stack(args)
    if not stack.local:
        print(on_aws(stack), file=sys.stderr)
        return 1
    messages, _ = read_journal(mail_journal_file())
    for message in messages:
        if _matches(message, args.to):
            _show(message, args.json)
    return 0


def run_tail(args: argparse.Namespace) -> int:
    """Follows the journal until ``--count`` messages were shown or ``--timeout`` passed."""
    stack = resolve_stack(args)
    if not stack.local:
        print(on_aws(stack), file=sys.stderr)
        return 1
    path = mail_journal_file()
    position = 0 if args.from_start else read_journal(path)[1]
    shown = 0
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while deadline is None or time.monotonic() < deadline:
        messages, position = read_journal(path, position)
        for message in messages:
            if _matches(message, args.to):
                _show(message, args.json or not sys.stdout.isatty())
                shown += 1
                if args.count is not None and shown >= args.count:
                    return 0
        time.sleep(POLL_SECONDS)
    return 0 if args.count is None else 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("mail", help="messages the local stack sent")
    commands = parser.add_subparsers(dest="mail_command", required=True)
    listing = commands.add_parser("list", help="every message sent, oldest first")
    tail = commands.add_parser("tail", help="print messages as they are sent (Ctrl-C stops)")
    for command in (listing, tail):
        command.add_argument("--to", metavar="EMAIL", help="only messages to this address")
        command.add_argument(
            "--json",
            action="store_true",
            help="one JSON object per line: to, subject, text, sent_at",
        )
        add_stack_arguments(command)
    tail.add_argument("--count", type=int, help="stop after this many messages (status 1 if fewer)")
    tail.add_argument("--timeout", type=float, help="stop after this many seconds")
    tail.add_argument(
        "--from-start", action="store_true", help="begin with the first message the stack sent"
    )
    listing.set_defaults(run=run_list)
    tail.set_defaults(run=run_tail)
