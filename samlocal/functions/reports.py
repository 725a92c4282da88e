"""What each invocation reports: Lambda's ``REPORT`` line, logged and handed to whoever collects
the reports of the invocations made for it (the gateway, for one HTTP request's access line)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

log = logging.getLogger("samlocal")


@dataclass(frozen=True)
class InvocationReport:
    """Lambda's ``REPORT`` line for one invocation; ``init_ms`` only on a cold start."""

    function: str
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_mb: int | None = None
    init_ms: float | None = None
    error: str | None = None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None

    def line(self) -> str:
        text = (
            f"REPORT {self.function} RequestId: {self.request_id} "
            f"Duration: {self.duration_ms:.2f} ms Billed Duration: {int(self.duration_ms) + 1} ms "
            f"Memory Size: {self.memory_mb} MB"
        )
        if self.max_memory_mb is not None:
            text += f" Max Memory Used: {self.max_memory_mb} MB"
        if self.init_ms is not None:
            text += f" Init Duration: {self.init_ms:.2f} ms"
        return text + (f" Status: {self.error}" if self.error else "")


_reports: ContextVar[list[InvocationReport] | None] = ContextVar("reports", default=None)


@contextmanager
def collecting_reports() -> Iterator[list[InvocationReport]]:
    """Gathers the reports of the invocations made in this context (one HTTP request's)."""
    reports: list[InvocationReport] = []
    token = _reports.set(reports)
    try:
        yield reports
    finally:
        _reports.reset(token)


def publish_report(report: InvocationReport) -> None:
    """Logs the REPORT line (shown with ``--verbose``) and hands it to the collecting request."""
    log.debug(report.line(), extra={"report": report})
    sink = _reports.get()
    if sink is not None:
        sink.append(report)
