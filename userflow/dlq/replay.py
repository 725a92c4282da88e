"""`userflow dlq replay` over the stack's queues: each message on its own, progress, a summary.

A message is deleted only once re-driven; a stream batch re-driven in part is replaced by what
is left of it. Everything taken but not done (left, skipped, or not reached because the run
stopped) is given back to its queue when the queue's run ends, so `dlq list` and the next run
see it at once. Messages already in flight when the run starts (another consumer, a replay still
running) cannot be reached and count as left, as do those --limit or --since leave alone: "left" is
what stays in the queue.
"""

from __future__ import annotations

import json
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
from userflow.dlq.redrive import Redriver, Result
from userflow.dlq.webhook_replay import delivers_to


@dataclass
class Limits:
    """``limit``: messages to handle in the whole run; ``since``: only messages sent after;
    ``endpoint``: only webhook deliveries to that endpoint (`userflow webhooks replay`)."""

    limit: int | None = None
    since: datetime | None = None
    endpoint: str | None = None
    handled: int = 0

    def exhausted(self) -> bool:
        return self.limit is not None and self.handled >= self.limit

    def excludes(self, message: dict[str, Any]) -> bool:
        sent_ms = message.get("Attributes", {}).get("SentTimestamp")
        before = self.since is not None and (
            sent_ms is None or int(sent_ms) / 1000 < self.since.timestamp()
        )
        return before or (self.endpoint is not None and not delivers_to(message, self.endpoint))

    def selection(self) -> str:
        """What leaves messages alone, as the summary names it."""
        chosen = "--limit/--since"
        return chosen if self.endpoint is None else f"{chosen}, or not for {self.endpoint}"


@dataclass
class QueueReport:
    """One queue's run. ``left`` is what stays in the queue (would stay, in a dry run)."""

    queue: DeadLetterQueue
    redriven: int = 0
    failed: int = 0
    """Tried and not re-driven (each named in ``problems``), unreadable messages included."""
    not_considered: int = 0
    """Left alone: outside --limit or --since, or not reached before the run was stopped."""
    in_flight: int = 0
    """Held by another consumer when the run started: out of reach."""
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False
    error: str | None = None
    """Why the queue itself could not be replayed (deleted meanwhile, access denied)."""

    @property
    def left(self) -> int:
        return self.failed + self.not_considered + self.in_flight

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue.label,
            "url": self.queue.url,
            "outside_stack": self.queue.outside_stack,
            "redriven": self.redriven,
            "left": self.left,
            "failed": self.failed,
            "not_considered": self.not_considered,
            "in_flight": self.in_flight,
            "problems": self.problems,
            "interrupted": self.interrupted,
            "error": self.error,
        }


class QueueReplay:
    def __init__(
        self, redriver: Redriver, limits: Limits, say: Callable[[str], None], wait_seconds: int
    ) -> None:
        """``wait_seconds``: SQS long polling, so that an empty answer means an empty queue."""
        self.redriver = redriver
        self.limits = limits
        self.say = say
        self.wait_seconds = wait_seconds

    def run(self, report: QueueReport) -> None:
        """Fills ``report`` as it goes, so that an interrupted run still has what it did."""
        io = QueueIo(self.redriver.sqs, report.queue.url)
        depth = io.depth()
        report.in_flight = depth.in_flight
        taken: dict[str, dict[str, Any]] = {}  # by message id: to give back unless deleted
        replacements: set[str] = set()  # narrowed copies sent in this run: for the next run
        seen: set[str] = set()  # messages of the queue as the run found it, each counted once
        drained = False
        current: str | None = None  # being re-driven: given back if the run stops meanwhile
        progress = tqdm(
            total=depth.visible, desc=report.queue.label, unit="msg", disable=None, file=sys.stderr
        )
        try:
            while not self.limits.exhausted():
                messages = io.receive(TAKE_VISIBILITY_S, self.wait_seconds, count=1)
                if not messages:
                    drained = True
                    break
                taken.update((m["MessageId"], m) for m in messages)
                for message in messages:
                    if message["MessageId"] in replacements:
                        continue
                    seen.add(message["MessageId"])
                    if self.limits.exhausted() or self.limits.excludes(message):
                        report.not_considered += 1
                        continue
                    current = message["MessageId"]
                    self._one(io, message, report, taken, replacements)
                    current = None
                    progress.update()
        except KeyboardInterrupt:
            report.interrupted = True
            report.not_considered += current is not None
            raise
        finally:
            if not drained:
                # Messages never received: --limit was reached, or the run was stopped.
                report.not_considered += max(0, depth.visible - len(seen))
            io.give_back(list(taken.values()))
            progress.close()

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
        self.say(f"{report.queue.label}: message {message['MessageId']}: {letter.describe()}")
        try:
            result = self.redriver.redrive(letter, report.queue.url)
        except Exception as error:  # one message's trouble never stops the others
            result = Result(False, problems=[f"{type(error).__name__}: {error}"])
        for problem in result.problems:
            self.say(f"    left: {problem}")
        report.problems += [f"message {message['MessageId']}: {p}" for p in result.problems]
        if result.done:
            report.redriven += 1
            if not self.redriver.dry_run:
                io.delete(message)
                del taken[message["MessageId"]]
            return
        report.failed += 1
        if result.rest is not None and not self.redriver.dry_run:
            replacements.add(io.replace(message, result.rest))
            del taken[message["MessageId"]]
            self.say("    the message now holds only the records left")


@dataclass
class ReplaySummary:
    reports: list[QueueReport]
    dry_run: bool
    seconds: float
    not_reached: list[DeadLetterQueue] = field(default_factory=list)
    """Queues the run did not get to (it was stopped)."""
    selection: str = "--limit/--since"
    """What left messages alone (``Limits.selection``)."""

    @property
    def left(self) -> int:
        return sum(r.left for r in self.reports)

    @property
    def exit_code(self) -> int:
        """0 only when nothing is left in the queues looked at, and every queue was reached."""
        failed = any(report.error for report in self.reports)
        return 1 if self.left or self.not_reached or failed else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "redriven": sum(r.redriven for r in self.reports),
            "left": self.left,
            "failed": sum(r.failed for r in self.reports),
            "not_considered": sum(r.not_considered for r in self.reports),
            "in_flight": sum(r.in_flight for r in self.reports),
            "interrupted": bool(self.not_reached) or any(r.interrupted for r in self.reports),
            "not_reached": [queue.label for queue in self.not_reached],
            "seconds": round(self.seconds, 3),
            "queues": [r.as_json() for r in self.reports],
        }

    def lines(self) -> list[str]:
        """One line per queue and a total."""
        verb = "would re-drive" if self.dry_run else "re-drove"
        lines = [
            f"{r.queue.label}: cannot be replayed ({r.error})"
            if r.error
            else f"{r.queue.label}: {verb} {r.redriven}, {r.left} left"
            f"{_why_left([r], self.selection)}"
            for r in self.reports
        ]
        lines += [f"{queue.label}: not reached (stopped)" for queue in self.not_reached]
        stopped = self.not_reached or any(r.interrupted for r in self.reports)
        lines.append(
            f"summary: {'stopped; ' if stopped else ''}{verb} "
            f"{sum(r.redriven for r in self.reports)}, {self.left} left"
            f"{_why_left(self.reports, self.selection)},"
            f" {len(self.reports)} queue(s) in {self.seconds:.1f} s"
        )
        return lines


def _why_left(reports: list[QueueReport], selection: str) -> str:
    """What the left messages are, e.g. " (1 failed, 2 not considered (--limit/--since))"."""
    failed = sum(r.failed for r in reports)
    not_considered = sum(r.not_considered for r in reports)
    in_flight = sum(r.in_flight for r in reports)
    cause = f"{selection}, or stopped" if any(r.interrupted for r in reports) else selection
    parts = [
        f"{failed} failed" if failed else "",
        f"{not_considered} not considered ({cause})" if not_considered else "",
        f"{in_flight} in flight, not reachable now" if in_flight else "",
    ]
    kept = [part for part in parts if part]
    return f" ({', '.join(kept)})" if kept else ""


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
    *,
    as_json: bool = False,
) -> int:
    """Each queue in turn, then the summary: also when stopped (Ctrl-C, SIGTERM, SIGHUP), after
    the messages taken were given back; the stop then goes on to the command's exit status."""
    started = time.monotonic()
    replay = QueueReplay(redriver, limits, redriver.say, wait_seconds)
    reports: list[QueueReport] = []
    try:
        for queue in queues:
            reports.append(QueueReport(queue))
            try:
                replay.run(reports[-1])
            except Exception as error:  # one queue's trouble (deleted, denied) stops no other
                reports[-1].error = f"{type(error).__name__}: {error}"
    except KeyboardInterrupt:
        reached = {report.queue for report in reports}
        summary = ReplaySummary(
            reports,
            redriver.dry_run,
            time.monotonic() - started,
            not_reached=[queue for queue in queues if queue not in reached],
            selection=limits.selection(),
        )
        _print_summary(summary, out, as_json)
        raise
    summary = ReplaySummary(
        reports, redriver.dry_run, time.monotonic() - started, selection=limits.selection()
    )
    _print_summary(summary, out, as_json)
    return summary.exit_code


def _print_summary(summary: ReplaySummary, out: Any, as_json: bool) -> None:
    """A terminal gone with SIGHUP cannot take the summary: that is no reason to fail."""
    try:
        text = json.dumps(summary.as_json()) if as_json else "\n".join(summary.lines())
        print(text, file=out, flush=True)
    except OSError:
        pass
