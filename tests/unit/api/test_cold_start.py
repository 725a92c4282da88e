"""Garbage collection pauses while a Lambda environment starts, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROBE = """
import gc
import handlers
from handlers.cold_start import started
states = [gc.isenabled()]
def first(event, context):
    states.append(gc.isenabled())
    if event == "fail":
        raise RuntimeError
handler = started(first)
try:
    handler({event!r}, None)
except RuntimeError:
    pass
states.append(gc.isenabled())
handler(None, None)
print(states, gc.get_freeze_count() > 0)
"""


def run(event: str | None, *, in_lambda: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "f"
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(event=event)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("event", [None, "fail"])
def test_given_lambda_when_started_then_collection_waits_for_the_first_invocation_to_end(
    event: str | None,
) -> None:
    # Off while importing and during the first invocation; on (objects frozen) after it.
    assert run(event, in_lambda=True) == "[False, False, True, True] True"


def test_given_no_lambda_when_handlers_are_imported_then_collection_is_untouched() -> None:
    assert run(None, in_lambda=False) == "[True, True, True, True] False"
