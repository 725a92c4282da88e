"""`userflow dlq list|replay|show|drop`: look at and re-drive every dead-letter queue of the stack.

The work is done in ``userflow.dlq`` (one module per job); this module is the command line. A
message no command can read is named (queue, message id, why) and the others are dealt with.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from userflow.commands.dlq_queues import (
    DLQ_HELP,
    dead_letter_queues,
    json_flag,
    select_queues,
)
from userflow.dlq.dead_letters import KINDS
from userflow.dlq.discovery import DeadLetterQueue
from userflow.dlq.messages import read_message
from userflow.dlq.queue import QueueIo
from userflow.errors import EXIT_FAILED, EXIT_OK
from userflow.stack import Stack, add_stack_arguments, resolve_stack

PEEK = 10


def _queue_listing(io: QueueIo, queue: DeadLetterQueue) -> dict[str, Any]:
    depth = io.depth()
    # Visibility 0: peeking leaves the messages where they are.
    peeked = io.receive(visibility=0) if depth.visible else []
    messages = []
    for message in peeked:
        letter = read_message(message)
        messages.append(
            {"id": message["MessageId"], "kind": KINDS[type(letter)], "summary": letter.describe()}
        )
    return {
        "queue": queue.label,
        "logical_id": queue.logical_id,
        "name": queue.name,
        "url": queue.url,
        "outside_stack": queue.outside_stack,
        "purpose": queue.purpose,
        "visible": depth.visible,
        "in_flight": depth.in_flight,
        "messages": messages,
    }


def list_dead_letters(stack: Stack, out: Any, *, as_json: bool = False) -> int:
    """Each DLQ with its depth and up to ``PEEK`` messages by id; exit 1 when any holds one."""
    sqs = stack.client("sqs")
    listings = []
    for queue in dead_letter_queues(stack, sqs):
        try:
            listings.append(_queue_listing(QueueIo(sqs, queue.url), queue))
        except (
            Exception
        ) as error:  # one queue's trouble (deleted, access denied) never hides others
            problem = f"{type(error).__name__}: {error}"
            listings.append({"queue": queue.label, "url": queue.url, "problem": problem})
    attention = any(item.get("problem") or item["visible"] + item["in_flight"] for item in listings)
    if as_json:
        print(json.dumps({"queues": listings, "needs_attention": attention}), file=out)
    else:
        print("\n".join(_listing_lines(listings)), file=out)
    return EXIT_FAILED if attention else EXIT_OK


def _listing_lines(listings: list[dict[str, Any]]) -> list[str]:
    lines = []
    for item in listings:
        if "problem" in item:
            lines.append(f"{item['queue']}: cannot be read ({item['problem']})")
            continue
        outside = ", outside the stack" if item["outside_stack"] else ""
        in_flight = f", {item['in_flight']} in flight" if item["in_flight"] else ""
        lines.append(
            f"{item['queue']} ({item['name']}{outside}): {item['visible']} message(s){in_flight}"
        )
        lines.append(f"  {item['purpose']}")
        lines += [f"  - {m['id']}: {m['summary']}" for m in item["messages"]]
        if item["visible"] > len(item["messages"]):
            lines.append(f"  ... and {item['visible'] - len(item['messages'])} more")
    return lines


def replay(
    stack: Stack,
    dry_run: bool,
    queue_filter: str | None,
    out: Any,
    *,
    wait_seconds: int = 1,
    limits: Any = None,
    as_json: bool = False,
) -> int:
    from userflow.dlq.redrive import Redriver
    from userflow.dlq.replay import Limits, replay_queues, writer

    # With --json, stdout holds the summary object alone; what happens goes to stderr.
    redriver = Redriver(stack, dry_run, writer(sys.stderr if as_json else out))
    queues = select_queues(dead_letter_queues(stack, redriver.sqs), queue_filter)
    return replay_queues(redriver, queues, limits or Limits(), out, wait_seconds, as_json=as_json)


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
    listing = commands.add_parser(
        "list",
        help="every DLQ with its depth and message summaries",
        description="Every dead-letter queue of the stack (those outside it tagged for it "
        "included), its depth and up to 10 messages by id.",
        epilog=DLQ_HELP,
    )
    add_stack_arguments(listing)
    json_flag(listing, "the queues and their messages")
    listing.set_defaults(
        run=lambda args: list_dead_letters(resolve_stack(args), sys.stdout, as_json=args.json)
    )
    _register_replay(commands)
    from userflow.commands.dlq_message import register_show_and_drop

    register_show_and_drop(commands)


def _register_replay(commands: Any) -> None:
    from userflow.dlq.replay import Limits

    replaying = commands.add_parser(
        "replay",
        help="re-drive DLQ messages (safe to run twice)",
        description="Re-drives every message of the stack's DLQs, each on its own. Stopped "
        "(Ctrl-C, SIGTERM, SIGHUP), it gives back what it took and prints its summary.",
        epilog=DLQ_HELP,
    )
    add_stack_arguments(replaying)
    replaying.add_argument(
        "--dry-run", action="store_true", help="make the same checks, change nothing"
    )
    replaying.add_argument("--queue", help="only this DLQ (logical id, queue name or URL)")
    replaying.add_argument(
        "--limit", type=_positive, help="re-drive at most this many messages in this run"
    )
    replaying.add_argument(
        "--since",
        type=_since,
        help="only messages sent since then: ISO 8601 time (UTC if no offset) or 30m, 2h, 1d",
    )
    json_flag(replaying, "the summary (progress goes to stderr)")
    replaying.set_defaults(
        run=lambda args: replay(
            resolve_stack(args),
            args.dry_run,
            args.queue,
            sys.stdout,
            limits=Limits(limit=args.limit, since=args.since),
            as_json=args.json,
        )
    )
