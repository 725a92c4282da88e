"""`userflow dlq list|replay`: show and re-drive every dead-letter queue of the stack.

The work is done in ``userflow.dlq`` (one module per job); this module is the command line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from userflow.dlq.discovery import DeadLetterQueue, dead_letter_queues
from userflow.dlq.messages import read_message
from userflow.dlq.queue import QueueIo
from userflow.dlq.redrive import Redriver
from userflow.dlq.replay import Limits, replay_queues, writer
from userflow.errors import EXIT_USAGE, CommandError
from userflow.stack import Stack, add_stack_arguments, resolve_stack

PEEK = 10


def list_dead_letters(stack: Stack, out: Any) -> int:
    sqs = stack.client("sqs")
    for queue in dead_letter_queues(stack, sqs):
        io = QueueIo(sqs, queue.url)
        depth = io.depth()
        in_flight = f", {depth.in_flight} in flight" if depth.in_flight else ""
        print(f"{queue.logical_id} ({queue.name}): {depth.visible} message(s){in_flight}", file=out)
        print(f"  {queue.purpose}", file=out)
        # Visibility 0: peeking leaves the messages where they are.
        for message in io.receive(visibility=0) if depth.visible else []:
            print(f"  - {read_message(message).describe()}", file=out)
        if depth.visible > PEEK:
            print(f"  ... and {depth.visible - PEEK} more", file=out)
    return 0


def select_queues(queues: list[DeadLetterQueue], wanted: str | None) -> list[DeadLetterQueue]:
    """The queues ``--queue`` names (all without it); none is a usage error naming the valid
    ones."""
    chosen = [queue for queue in queues if wanted is None or queue.matches(wanted)]
    if not chosen:
        valid = ", ".join(f"{q.logical_id} ({q.name})" for q in queues) or "none"
        raise CommandError(f"no dead-letter queue named {wanted!r}; valid: {valid}", EXIT_USAGE)
    return chosen


def replay(
    stack: Stack,
    dry_run: bool,
    queue_filter: str | None,
    out: Any,
    *,
    wait_seconds: int = 1,
    limits: Limits | None = None,
) -> int:
    redriver = Redriver(stack, dry_run, writer(out))
    queues = select_queues(dead_letter_queues(stack, redriver.sqs), queue_filter)
    return replay_queues(redriver, queues, limits or Limits(), out, wait_seconds)


def _since(text: str) -> datetime:
    """An ISO 8601 instant (naive means UTC) or a duration back from now: 30m, 2h, 1d."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        try:
            return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
        except OverflowError as error:
            raise argparse.ArgumentTypeError(f"{text!r} reaches back before year 1") from error
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an ISO 8601 time nor a duration like 30m, 2h, 1d"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dlq", help="show and replay the stack's dead-letter queues")
    commands = parser.add_subparsers(dest="dlq_command", required=True)
    listing = commands.add_parser("list", help="every DLQ with its depth and message summaries")
    add_stack_arguments(listing)
    listing.set_defaults(run=lambda args: list_dead_letters(resolve_stack(args), sys.stdout))
    replaying = commands.add_parser(
        "replay",
        help="re-drive DLQ messages (safe to run twice)",
        description="Re-drives every message of the stack's DLQs, each on its own. Exit status:"
        " 0 all re-driven, 1 some left (named in the output), 2 no DLQ matches --queue.",
    )
    add_stack_arguments(replaying)
    replaying.add_argument(
        "--dry-run", action="store_true", help="make the same checks, change nothing"
    )
    replaying.add_argument("--queue", help="only this DLQ (logical id or queue name)")
    replaying.add_argument(
        "--limit", type=_positive, help="re-drive at most this many messages in this run"
    )
    replaying.add_argument(
        "--since",
        type=_since,
        help="only messages sent since then: ISO 8601 time (UTC if no offset) or 30m, 2h, 1d",
    )
    replaying.set_defaults(
        run=lambda args: replay(
            resolve_stack(args),
            args.dry_run,
            args.queue,
            sys.stdout,
            limits=Limits(limit=args.limit, since=args.since),
        )
    )
