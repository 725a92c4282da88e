"""The console: runtime records survive Powertools' log filter; function lines are shortened."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from samlocal.console import configure_console

RUNTIME = logging.getLogger("samlocal")
APPLICATION = logging.getLogger("app-local")
FUNCTION_OUTPUT = logging.getLogger("samlocal.function")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    saved = [(log.handlers[:], log.level, log.propagate) for log in (RUNTIME, APPLICATION)]
    root_handlers = logging.root.handlers[:]
    stream = io.StringIO()
    configure_console("text", stream=stream, application_loggers=[APPLICATION.name])
    yield stream
    for log, (handlers, level, propagate) in zip((RUNTIME, APPLICATION), saved, strict=True):
        log.handlers[:], log.level, log.propagate = handlers, level, propagate
    logging.root.handlers[:] = root_handlers


@pytest.mark.parametrize("service", ["samlocal", "app"])
def test_given_a_powertools_logger_named_like_ours_when_we_log_then_it_is_shown(
    console: io.StringIO, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    from aws_lambda_powertools import Logger

    monkeypatch.delenv("POWERTOOLS_LOG_DEDUPLICATION_DISABLED", raising=False)
    Logger(service=service)  # adds SuppressFilter(service) to every root handler

    RUNTIME.error("poller failed on a batch")
    APPLICATION.info("stack ready")

    assert "poller failed on a batch" in console.getvalue()
    assert "stack ready" in console.getvalue()


def test_given_an_emf_document_when_a_function_prints_it_then_one_short_metrics_line(
    console: io.StringIO,
) -> None:
    emf = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Userflow",
                    "Dimensions": [["service"]],
                    "Metrics": [
                        {"Name": "LoginFailed", "Unit": "Count"},
                        {"Name": "LoginThrottled", "Unit": "Count"},
                    ],
                }
            ],
        },
        "service": "userflow",
        "LoginFailed": [1.0],
        "LoginThrottled": 2.0,
    }

    FUNCTION_OUTPUT.info(json.dumps(emf), extra={"function": "LoginFunction"})

    (line,) = console.getvalue().splitlines()
    assert line.endswith("[LoginFunction] metrics: LoginFailed=1 LoginThrottled=2")


def test_given_a_powertools_record_with_an_exception_when_shown_then_level_message_traceback(
    console: io.StringIO,
) -> None:
    record = {"level": "ERROR", "message": "boom", "exception": "Traceback ...\nKeyError: 'x'"}

    FUNCTION_OUTPUT.info(json.dumps(record), extra={"function": "GetUserFunction"})

    lines = console.getvalue().splitlines()
    assert lines[0].endswith("[GetUserFunction] ERROR boom")
    assert lines[1:] == ["Traceback ...", "KeyError: 'x'"]


@pytest.mark.parametrize(
    ("control", "escaped"),
    [
        ("\x00", "\\x00"),
        ("\t", "\\x09"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\r", "\\x0d"),
        ("\x7f", "\\x7f"),
        ("\x9b", "\\x9b"),
    ],
)
def test_given_control_characters_in_a_record_when_shown_then_escaped_never_raw(
    console: io.StringIO, control: str, escaped: str
) -> None:
    RUNTIME.info("GET /a%sb 404", control)
    FUNCTION_OUTPUT.info("printed %s by a function", control, extra={"function": "F"})

    shown = console.getvalue()
    assert control not in shown
    assert f"GET /a{escaped}b 404" in shown
    assert f"[F] printed {escaped} by a function" in shown
    assert shown.count("\n") == 2  # one line each
