"""The emulator on its own: ``samlocal`` runs a template that is not Userflow's (tests/e2e/
samlocal_notes: one route, one table stream, one queue) with no Userflow code, hook or setting.

It binds its HTTP port before anything else (a busy port leaves another stack's files alone) and
ends idle execution environments as Lambda does.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samlocal.runtime import LocalRuntime, PortUnavailable, RuntimeOptions

pytestmark = pytest.mark.e2e

TEMPLATE = Path(__file__).parent / "samlocal_notes" / "template.yaml"
IDLE_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def notes() -> Iterator[LocalRuntime]:
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(name, "testing")
        env.delenv("AWS_PROFILE", raising=False)
        options = RuntimeOptions(
            template=TEMPLATE, stack_name="notes-local", port=0, idle_timeout=IDLE_TIMEOUT_S
        )
        with LocalRuntime(options) as runtime:
            yield runtime


def put_note(runtime: LocalRuntime, note_id: str, text: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{runtime.stack.api_url}/notes/{note_id}",
        data=json.dumps({"text": text}).encode(),
        headers={"content-type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def seen_notes(runtime: LocalRuntime, count: int, timeout_s: float = 30.0) -> list[Any]:
    sqs = runtime.stack.client("sqs")
    url = runtime.stack.physical_id("SeenQueue")
    seen: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(seen) < count and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        seen += [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    return seen


def test_given_a_template_not_userflows_when_a_note_is_put_then_the_route_and_stream_run_it(
    notes: LocalRuntime,
) -> None:
    status, body = put_note(notes, "n1", "h\u00e9llo")

    assert (status, body) == (201, {"id": "n1", "text": "h\u00e9llo"})
    item = notes.stack.client("dynamodb").get_item(
        TableName=notes.stack.physical_id("NotesTable"), Key={"id": {"S": "n1"}}
    )
    assert item["Item"]["text"] == {"S": "h\u00e9llo"}
    assert seen_notes(notes, 1) == [{"id": "n1", "text": "h\u00e9llo"}]


def test_given_an_environment_idle_past_the_timeout_then_it_ends_and_the_next_call_starts_one(
    notes: LocalRuntime,
) -> None:
    put_note(notes, "n2", "warm")
    deadline = time.monotonic() + IDLE_TIMEOUT_S + 10
    while notes.workers.workers("WriteNoteFunction") and time.monotonic() < deadline:
        time.sleep(0.1)

    assert notes.workers.workers("WriteNoteFunction") == 0
    assert put_note(notes, "n3", "cold again")[0] == 201
    assert notes.workers.workers("WriteNoteFunction") == 1


def test_given_the_port_is_busy_when_a_stack_starts_then_it_fails_before_touching_any_file(
    tmp_path: Path,
) -> None:
    journal, rates = tmp_path / "mail.jsonl", tmp_path / "fail-rate"
    journal.write_text('{"kept": "another stack\'s mail"}\n')
    rates.write_text("putevents=0.5\n")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        options = RuntimeOptions(
            template=TEMPLATE,
            port=busy,
            mail_journal=journal,
            rates_file=rates,
            fail_rates={"putevents": 0.0},
        )

        with pytest.raises(PortUnavailable) as refused:
            LocalRuntime(options).start()

    assert refused.value.port == busy
    assert journal.read_text() == '{"kept": "another stack\'s mail"}\n'
    assert rates.read_text() == "putevents=0.5\n"
