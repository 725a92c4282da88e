"""`userflow status`: the stack at a glance, on AWS or on the local stack.

Shows the alarms in ALARM (of the stack's own alarms), every queue's depth (dead-letter queues
marked, subscribers' DLQs outside the stack included), the stream processor's iterator age, and the
lifecycle events: how many the archive holds and how many were published and failed in the last
hour. The local stack emulates no CloudWatch alarms or metrics, so there those lines say "no data".
Every line marked "!" is something to act on, and only then is the exit status 1.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from userflow.errors import EXIT_FAILED, EXIT_OK
from userflow.stack import add_stack_arguments, resolve_stack
from userflow.stack_status import StackStatus, collect

EXIT_HELP = """exit status:
  0    nothing needs attention
  1    something needs attention (each named on a line marked "!"): an alarm in ALARM, a
       dead-letter queue holding messages, a queue missing, alarms that notify nobody, or
       queues whose tags could not be read (one may be a dead-letter queue)
  2    nothing done: invalid arguments, or no stack to act on"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the stack at a glance: alarms, queues, events",
        description=__doc__,
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack = resolve_stack(args)
    status = collect(stack)
    if args.json:
        print(json.dumps({**asdict(status), "attention": status.attention}))
    else:
        print(render(status))
    return EXIT_FAILED if status.needs_attention else EXIT_OK


def render(status: StackStatus) -> str:
    def value(number: float | None, unit: str = "") -> str:
        return "no data" if number is None else f"{number:g}{unit}"

    lines = [f"status of {status.target}"]
    if status.alarm_count == 0:
        lines.append("alarms: none exist (the local stack emulates no CloudWatch alarms)")
    elif status.alarms_in_alarm:
        lines.append(f"alarms: {len(status.alarms_in_alarm)} of {status.alarm_count} in ALARM")
        lines += [f"  ! {a['name']}: {a['reason']}" for a in status.alarms_in_alarm]
    else:
        lines.append(f"alarms: all {status.alarm_count} OK (or without data)")
    if status.alarms_notify_nobody:
        lines.append(
            "! alarm topic: no confirmed subscriber, so alarms notify nobody"
            " (docs/deploy.md: AlarmEmail)"
        )
    elif status.alarm_subscribers == 0:
        lines.append("alarm topic: no confirmed subscriber (and no alarm here to notify of)")
    elif status.alarm_subscribers is not None:
        lines.append(f"alarm topic: {status.alarm_subscribers} confirmed subscriber(s)")
    lines.append("queues (visible / in flight):")
    for queue in status.queues:
        kind = " (dead letters)" if queue.dead_letter else ""
        kind = " (dead letters, outside the stack)" if queue.outside_stack else kind
        if queue.missing:
            lines.append(f"  ! {queue.logical_id}{kind}: missing (deleted? redeploy to recreate)")
            continue
        mark = "!" if queue.dead_letter and queue.visible + queue.in_flight else " "
        lines.append(f"  {mark} {queue.logical_id}{kind}: {queue.visible} / {queue.in_flight}")
    lines += [
        f"  ! {problem}: a dead-letter queue may be missed" for problem in status.unreadable_queues
    ]
    lines.append(f"stream iterator age (max, last 15 min): {value(status.iterator_age_ms, ' ms')}")
    lines.append(
        f"events: {value(status.events_archived)} archived; last hour: "
        f"{value(status.events_published_last_hour)} published, "
        f"{value(status.events_failed_last_hour)} failed"
    )
    if status.needs_attention:
        lines.append(
            f"needs attention ({'; '.join(status.attention)}): see docs/operating/runbook.md"
        )
    return "\n".join(lines)
