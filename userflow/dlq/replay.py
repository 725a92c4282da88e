"""`userflow dlq replay` over the stack's queues: each message on its own, progress, a summary.

A message is deleted only once re-driven; a stream batch re-driven in part is replaced by what
is left of it. Everything taken but not done (left, skipped, or not reached because the run
stopped) is given back to its queue when the queue's run ends, so `dlq list` and the next run
see it at once. Messages already in flight when the run starts (another consumer, a replay still
running) cannot be reached and count as left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tqdm import tqdm

from userflow.dlq.discovery import DeadLetterQueue
from userflow.dlq.messages import read_message
from userflow.dlq.queue import TAKE_VISIBILITY_S, QueueIo
from userflow.dlq.redrive import Redriver


@dataclass
class Limits:
    """``limit``: messages to handle in the whole run; ``since``: only messages sent after."""

    limit: int | None = None
    since: datetime | None = None
    handled: int = 0

    def exhausted(self) -> bool:
        return self.limit is not None and self.handled >= self.limit

    def excludes(self, message: dict[str, Any]) -> bool:
        sent_ms = message.get("Attributes", {}).get("SentTimestamp")
        return self.since is not None and (
            sent_ms is None or int(sent_ms) / 1000 < self.since.timestamp()
        )


@dataclass
class QueueReport:
    queue: DeadLetterQueue
    redriven: int = 0
    left: int = 0
    in_flight: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


class QueueReplay:
    def __init__(
        self, redriver: Redriver, limits: Limits, say: Callable[[str], None], wait_seconds: int
    ) -> None:
        """``wait_seconds``: SQS long polling, so that an empty answer means an empty queue."""
        self.redriver = redriver
        self.limits = limits
        self.say = say
        self.wait_seconds = wait_seconds

    def run(self, queue: DeadLetterQueue) -> QueueReport:
        io = QueueIo(self.redriver.sqs, queue.url)
        depth = io.depth()
        report = QueueReport(queue, in_flight=depth.in_flight)
        taken: dict[str, dict[str, Any]] = {}  # by message id: to give back unless deleted
        replacements: set[str] = set()  # narrowed copies sent in this run: for the next run
        progress = tqdm(
            total=depth.visible, desc=queue.logical_id, unit="msg", disable=None, file=sys.stderr
        )
        try:
            while not self.limits.exhausted() and (
                messages := io.receive(TAKE_VISIBILITY_S, self.wait_seconds, count=1)
            ):
                taken.update((m["MessageId"], m) for m in messages)
                for message in messages:
                    if message["MessageId"] in replacements:
                        continue
                    if self.limits.exhausted() or self.limits.excludes(message):
                        report.skipped += 1
                        continue
                    self._one(io, message, report, taken, replacements)
                    progress.update()
        finally:
            io.give_back(list(taken.values()))
            progress.close()
        return report

    def _one(
        self,
        io: QueueIo,
        message: dict[str, Any],
        report: QueueReport,
        taken: dict[str, dict[str, Any]],
        replacements: set[str],
    ) -> None:
        self.limits.handled += 1
        letter = read_message(message)
        self.say(f"{report.queue.logical_id}: {letter.describe()}")
        try:
            result = self.redriver.redrive(letter)
        except Exception as error:  # one message's trouble never stops the others
            report.left += 1
            report.problems.append(f"{type(error).__name__}: {error}")
            self.say(f"    left: {type(error).__name__}: {error}")
            return
        for problem in result.problems:
            self.say(f"    left: {problem}")
        report.problems += result.problems
        if result.done:
            report.redriven += 1
            if not self.redriver.dry_run:
                io.delete(message)
                del taken[message["MessageId"]]
            return
        report.left += 1
        if result.rest is not None and not self.redriver.dry_run:
            replacements.add(io.replace(message, result.rest))
            del taken[message["MessageId"]]
            self.say("    the message now holds only the records left")


def print_summary(reports: list[QueueReport], dry_run: bool, seconds: float, out: Any) -> int:
    """One line per queue and a total; the exit status: 1 when anything is left."""
    verb = "would re-drive" if dry_run else "re-drove"
    for r in reports:
        extra = f" ({r.in_flight} in flight, not reachable now)" if r.in_flight else ""
        not_considered = f", {r.skipped} not considered (--limit/--since)" if r.skipped else ""
        print(
            f"{r.queue.logical_id}: {verb} {r.redriven}, {r.left + r.in_flight} left{extra}"
            f"{not_considered}",
            file=out,
        )
    redriven = sum(r.redriven for r in reports)
    left = sum(r.left + r.in_flight for r in reports)
    skipped = sum(r.skipped for r in reports)
    print(
        f"summary: {verb} {redriven}, {left} left, {skipped} not considered,"
        f" {len(reports)} queue(s) in {seconds:.1f} s",
        file=out,
    )
    return 1 if left else 0


def writer(out: Any) -> Callable[[str], None]:
    """Prints above the progress bar (stderr, on a terminal only) without breaking it."""

    def say(text: str) -> None:
        tqdm.write(text, file=out)

    return say


def replay_queues(
    redriver: Redriver,
    queues: list[DeadLetterQueue],
    limits: Limits,
    out: Any,
    wait_seconds: int = 1,
) -> int:
    started = time.monotonic()
    replay = QueueReplay(redriver, limits, redriver.say, wait_seconds)
    reports = [replay.run(queue) for queue in queues]
    return print_summary(reports, redriver.dry_run, time.monotonic() - started, out)
