"""Re-sending a window of the user events archive onto the bus (`userflow events replay`): late
or lost subscribers catch up from EventBridge's own archive and replay."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from userflow.stack import Stack


def replay(
    stack: Stack,
    since: datetime,
    until: datetime,
    rules: list[str],
    out: Any,
    *,
    wait_seconds: float = 600.0,
) -> int:
    """Re-sends the archived events of ``[since, until)`` onto the bus: to the named rules only
    (``FilterArns``), or every rule. Waits for the replay to finish; exit 1 if it failed."""
    events = stack.client("events")
    bus = stack.physical_id("UserEventsBus")
    archive = stack.physical_id("UserEventsArchive").rsplit("/", 1)[-1]
    archive_arn = events.describe_archive(ArchiveName=archive)["ArchiveArn"]
    bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    destination: dict[str, Any] = {"Arn": bus_arn}
    if rules:
        destination["FilterArns"] = [
            events.describe_rule(Name=rule, EventBusName=bus)["Arn"] for rule in rules
        ]
    name = f"userflow-{uuid.uuid4().hex[:16]}"
    events.start_replay(
        ReplayName=name,
        EventSourceArn=archive_arn,
        EventStartTime=since,
        EventEndTime=until,
        Destination=destination,  # type: ignore[arg-type]
    )
    targets = ", ".join(rules) or "every rule"
    print(f"replay {name}: {since.isoformat()} to {until.isoformat()} -> {targets}", file=out)
    deadline = time.monotonic() + wait_seconds
    state = "STARTING"
    while time.monotonic() < deadline:
        state = events.describe_replay(ReplayName=name)["State"]
        if state in ("COMPLETED", "FAILED", "CANCELLED"):
            break
        time.sleep(1)
    print(f"replay {name}: {state}", file=out)
    return 0 if state == "COMPLETED" else 1
