"""`userflow users import FILE.ndjson`: one user per line, streamed (one line in memory at a time,
and the addresses seen as 16-byte digests), throttled, with a report line per input line."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from domain.email_address import normalize_email
from domain.user_import import InvalidLine, Outcome, Result, UserImporter

MAX_LINE_BYTES = 64 * 1024
"""A user is a few KB at most (custom attributes are limited to 16 KB each)."""


def lines(source: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes); None for a line longer than MAX_LINE_BYTES, skipped unread."""
    number = 0
    while True:
        chunk = source.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = source.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, chunk


class Throttle:
    """At most ``rate`` writes per second, so an import leaves the table's capacity to users."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + self._interval


def _digest(email: str) -> bytes:
    return hashlib.sha256(email.encode("utf-8", "surrogatepass")).digest()[:16]


def run_import(
    importer: UserImporter,
    path: Path,
    report: IO[str],
    *,
    dry_run: bool,
    rate: float,
    progress: Any,
) -> Counter[str]:
    """Imports ``path``, writing one JSON report line per input line; returns counts by result."""
    counts: Counter[str] = Counter()
    seen: set[bytes] = set()
    throttle = Throttle(rate)
    with path.open("rb") as source:
        for number, raw in lines(source):
            outcome, email = _line_outcome(importer, raw, seen, throttle, dry_run)
            counts[outcome.result] += 1
            entry: dict[str, Any] = {"line": number, "result": str(outcome.result)}
            if email:
                entry["email"] = email
            if outcome.user_id:
                entry["id"] = outcome.user_id
            if outcome.reason:
                entry["reason"] = outcome.reason
            report.write(json.dumps(entry, ensure_ascii=False) + "\n")
            progress.update(source.tell() - progress.n)
    return counts


def _line_outcome(
    importer: UserImporter,
    raw: bytes | None,
    seen: set[bytes],
    throttle: Throttle,
    dry_run: bool,
) -> tuple[Outcome, str | None]:
    values: Any = None
    try:
        values = _decoded(raw)
        line = importer.parse(values)
    except InvalidLine as error:
        return Outcome(Result.INVALID, reason=str(error)), _email_of(values)
    digest = _digest(line.email)
    if digest in seen:
        duplicate = Outcome(Result.INVALID, reason="duplicate: an earlier line has this email")
        return duplicate, line.email
    seen.add(digest)
    if not dry_run:
        throttle.wait()
    return importer.import_line(line, dry_run=dry_run), line.email


def _decoded(raw: bytes | None) -> Any:
    """The line's JSON value; InvalidLine saying why there is none."""
    if raw is None:
        raise InvalidLine(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidLine("not UTF-8") from None
    if not text.strip():
        raise InvalidLine("empty line")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidLine("not JSON") from None


def _email_of(values: Any) -> str | None:
    """The line's address for the report, if it is one (never anything else of the line)."""
    email = values.get("email") if isinstance(values, dict) else None
    if not isinstance(email, str):
        return None
    try:
        return normalize_email(email)
    except ValueError:
        return None


def default_report(path: Path) -> Path:
    return path.with_name(f"{path.name}.report-{int(time.time())}-{os.getpid()}.ndjson")
