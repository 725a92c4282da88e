"""`userflow events tail`: print lifecycle events as they are published; `userflow events replay
--since T [--until T] [--rule NAME]`: re-send the archive's events of a window (late subscribers).

Subscribes like any consumer would (``userflow.event_subscription``): a temporary SQS queue and
a rule on the user events bus matching source ``userflow.users``, both removed on exit, Ctrl-C,
SIGTERM and SIGHUP (a dropped SSH session) included. On a terminal each event is one short line;
otherwise one JSON object per line, the whole EventBridge event.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from userflow.event_archive import replay
from userflow.event_subscription import subscription
from userflow.stack import Stack, add_stack_arguments, resolve_stack


def line(event: dict[str, Any]) -> str:
    detail = event.get("detail", {})
    user = detail.get("user", {})
    changed = detail.get("changed_fields")
    return " ".join(
        part
        for part in (
            detail.get("occurred_at", event.get("time", "")),
            f"{event.get('detail-type', '?'):<11}",
            f"{user.get('id', '?')} <{user.get('email', '?')}>",
            f"changed={','.join(changed)}" if changed else "",
            f"event_id={detail.get('event_id', '?')}",
        )
        if part
    )


def tail(
    stack: Stack,
    out: Any,
    *,
    as_json: bool,
    count: int | None = None,
    timeout: float | None = None,
    ready: Any = None,
) -> int:
    """Print events until interrupted, ``count`` events were printed or ``timeout`` passed."""
    deadline = time.monotonic() + timeout if timeout is not None else None
    printed = 0
    sqs = stack.client("sqs")
    try:  # Ctrl-C at any point, setting up included, ends the tail after its cleanup
        with subscription(stack) as url:
            if ready is not None:
                ready.set()
            print(f"tailing {stack.physical_id('UserEventsBus')} (Ctrl-C to stop)", file=sys.stderr)
            while (count is None or printed < count) and (
                deadline is None or time.monotonic() < deadline
            ):
                response = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
                for message in response.get("Messages", []):
                    event = json.loads(message["Body"])
                    print(json.dumps(event) if as_json else line(event), file=out, flush=True)
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    printed += 1
    except KeyboardInterrupt:
        pass
    return 0


def _run(args: argparse.Namespace) -> int:
    as_json = args.json or not sys.stdout.isatty()
    return tail(
        resolve_stack(args), sys.stdout, as_json=as_json, count=args.count, timeout=args.timeout
    )


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return seconds


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("events", help="lifecycle events on the user events bus")
    commands = parser.add_subparsers(dest="events_command", required=True)
    tailing = commands.add_parser("tail", help="print events as they are published")
    add_stack_arguments(tailing)
    tailing.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    tailing.add_argument("--count", type=_count, help="stop after this many events (at least 1)")
    tailing.add_argument("--timeout", type=_seconds, help="stop after this many seconds (above 0)")
    tailing.set_defaults(run=_run)
    replaying = commands.add_parser(
        "replay", help="re-send archived events of a time window (late or lost subscribers)"
    )
    add_stack_arguments(replaying)
    replaying.add_argument("--since", type=_time, required=True, help="ISO 8601, inclusive")
    replaying.add_argument(
        "--until", type=_time, default=None, help="ISO 8601, exclusive (default: now)"
    )
    replaying.add_argument(
        "--rule",
        action="append",
        default=[],
        help="only to this rule of the bus (its name; repeat for several); default: every rule",
    )
    replaying.set_defaults(
        run=lambda a: replay(
            resolve_stack(a), a.since, a.until or datetime.now(UTC), a.rule, sys.stdout
        )
    )
