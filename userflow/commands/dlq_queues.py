"""What the `userflow dlq` commands share: their exit statuses, the ``--json`` flag, and the
stack's dead-letter queues as ``--queue`` selects them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from userflow.dlq.discovery import DeadLetterQueue, discover
from userflow.errors import EXIT_USAGE, CommandError
from userflow.stack import Stack

DLQ_HELP = """exit status:
  0    nothing needs attention (list: every dead-letter queue is empty; replay: nothing is left)
  1    something is left (named in the output): messages in a queue, a message unreadable, or
       left by --limit/--since; for drop: the message was not dropped
  2    nothing done: invalid arguments, an unknown queue or message id, or no stack to act on
  129  SIGHUP, 130 Ctrl-C, 143 SIGTERM: stopped after giving back what it took (replay prints
       its summary first)"""


def dead_letter_queues(stack: Stack, sqs: Any) -> list[DeadLetterQueue]:
    found = discover(stack, sqs)
    for problem in found.unreadable:
        print(f"warning: {problem}: a dead-letter queue may be missed", file=sys.stderr)
    return found.queues


def select_queues(queues: list[DeadLetterQueue], wanted: str | None) -> list[DeadLetterQueue]:
    """The queues ``--queue`` names (all without it); none is a usage error naming the valid
    ones."""
    chosen = [queue for queue in queues if wanted is None or queue.matches(wanted)]
    if not chosen:
        valid = ", ".join(f"{q.label} ({q.name})" for q in queues) or "none"
        raise CommandError(f"no dead-letter queue named {wanted!r}; valid: {valid}", EXIT_USAGE)
    return chosen


def json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"{what} as one JSON object on stdout")
