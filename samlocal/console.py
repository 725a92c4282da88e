"""What the local runtime prints: access lines, function logs, errors — text or JSON lines.

The runtime logs to the ``samlocal`` logger, which gets its own handler and does not propagate
to the root logger. That matters: Powertools' ``Logger`` adds a ``SuppressFilter(service)`` to
every root handler when it is set up, and that filter drops any record whose logger name
*contains* the service name, which once silenced the runtime's own logs when a function had been
loaded in the same process. Functions run in worker processes, and the runtime's records never
pass a root handler either way.

A function's output arrives line by line (``samlocal.function``). Text mode shows
Powertools' JSON log records as ``LEVEL message`` (with the traceback, if any), and CloudWatch
embedded-metric (EMF) documents as one short ``metrics:`` line, or writes them to a file.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

RUNTIME_LOGGER = "samlocal"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
"""Control characters but the newline: shown escaped, never written to a terminal raw."""
QUIET_LIBRARIES = ("waitress", "botocore", "boto3", "urllib3", "werkzeug", "moto")


def _parsed(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def metrics_summary(document: dict[str, Any]) -> str:
    """``metrics: Name=value ...`` for an EMF document."""
    names = [
        metric["Name"]
        for directive in document["_aws"].get("CloudWatchMetrics", [])
        for metric in directive.get("Metrics", [])
    ]
    return "metrics: " + " ".join(f"{name}={_number(document.get(name))}" for name in names)


def _number(value: Any) -> str:
    """EMF values are numbers or lists of numbers; ``1.0`` reads better as ``1``."""
    values = value if isinstance(value, list) else [value]
    shown = [f"{v:g}" if isinstance(v, float | int) else str(v) for v in values]
    return ",".join(shown)


def _function_text(line: str) -> str:
    """A function's log line for a person: Powertools records and EMF shortened."""
    record = _parsed(line)
    if record is None:
        return line
    if "_aws" in record:
        return metrics_summary(record)
    if "message" in record and "level" in record:
        text = f"{record['level']} {record['message']}"
        return f"{text}\n{record['exception']}" if record.get("exception") else text
    return line


def printable(text: str) -> str:
    """``text`` with its control characters (ANSI escapes, NUL, TAB, CR...) as ``\\xNN``: a
    request path or a function's output cannot move the cursor or rewrite earlier lines."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS [Function] message`` for function output, ``HH:MM:SS message`` otherwise."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        function = getattr(record, "function", None)
        if function is not None:
            return printable(f"{moment} [{function}] {_function_text(record.getMessage())}")
        level = f"{record.levelname} " if record.levelno >= logging.WARNING else ""
        text = f"{moment} {level}{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return printable(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``kind`` is access, function, report or runtime."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
        }
        function = getattr(record, "function", None)
        if function is not None:
            line = record.getMessage()
            parsed = _parsed(line)
            entry |= {"kind": "function", "function": function}
            entry |= {"record": parsed} if parsed is not None else {"message": line}
        elif hasattr(record, "access"):
            entry |= {"kind": "access", **record.access}
        elif hasattr(record, "report"):
            entry |= {"kind": "report", "message": record.getMessage()}
        else:
            entry |= {"kind": "runtime", "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class MetricsToFile(logging.Filter):
    """Writes functions' EMF documents to a file instead of the console."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "function", None) is None:
            return True
        line = record.getMessage()
        parsed = _parsed(line)
        if parsed is None or "_aws" not in parsed:
            return True
        with self.path.open("a", encoding="utf-8") as metrics:
            metrics.write(line + "\n")
        return False


def configure_console(
    log_format: str = "text",
    *,
    verbose: bool = False,
    metrics_file: Path | None = None,
    stream: TextIO | None = None,
    application_loggers: Sequence[str] = (),
) -> None:
    """Routes the runtime's records (and the application's loggers', shown as the runtime's) to
    ``stream`` in the chosen format, and nothing else."""
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    if metrics_file is not None:
        handler.addFilter(MetricsToFile(metrics_file))
    for name in (RUNTIME_LOGGER, *application_loggers):
        runtime = logging.getLogger(name)
        runtime.handlers[:] = [handler]
        runtime.setLevel(logging.DEBUG if verbose else logging.INFO)
        runtime.propagate = False
    # Libraries' own warnings and errors, through a handler of their own (filters on root
    # handlers, such as Powertools', never reach the runtime's).
    library_handler = logging.StreamHandler(stream or sys.stderr)
    library_handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [library_handler]
    root.setLevel(logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"(aws_lambda_powertools|botocore|boto3|moto)(\.|$)")
