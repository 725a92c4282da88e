"""A journal of the mail SES sent: every message moto's SES accepted, with when it was sent.

Moto's SES keeps what it accepts in memory but not when; this WSGI middleware in front of the
embedded moto server appends each SESv2 ``SendEmail`` that moto answered with 200 to a JSON-lines
file, which other processes read (:func:`read_journal`). A message moto refuses (an unverified
sender) is not journaled: it was not sent.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from samlocal.wsgi import Environ, StartResponse, WsgiApp

SEND_EMAIL_PATH = "/v2/email/outbound-emails"


def journal_entry(request: dict[str, Any], sent_at: datetime) -> dict[str, Any]:
    """``to``, ``subject``, ``text``, ``sent_at`` of a SESv2 SendEmail with Simple content."""
    simple = request.get("Content", {}).get("Simple", {})
    body = simple.get("Body", {})
    return {
        "to": ", ".join(request.get("Destination", {}).get("ToAddresses", [])),
        "subject": simple.get("Subject", {}).get("Data", ""),
        "text": body.get("Text", body.get("Html", {})).get("Data", ""),
        "sent_at": sent_at.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }


class MailJournal:
    def __init__(self, app: WsgiApp, path: Path) -> None:
        self.app = app
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")  # a new stack has sent nothing yet

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != SEND_EMAIL_PATH:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = environ["wsgi.input"].read(length)
        environ = {**environ, "wsgi.input": io.BytesIO(payload)}
        accepted: list[bool] = []

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            accepted.append(status.startswith("200"))
            return start_response(status, headers, *args)

        chunks = list(self.app(environ, capture))
        if accepted and accepted[0]:
            entry = journal_entry(json.loads(payload or b"{}"), datetime.now(UTC))
            with self._lock, self.path.open("a", encoding="utf-8") as journal:
                journal.write(json.dumps(entry) + "\n")
        return chunks


def read_journal(path: Path, start: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The messages journaled from byte ``start`` on (whole lines only) and the next start."""
    try:
        with path.open("rb") as journal:
            journal.seek(start)
            data = journal.read()
    except FileNotFoundError:
        return [], start
    complete = data[: data.rfind(b"\n") + 1]
    messages = [json.loads(line) for line in complete.splitlines() if line.strip()]
    return messages, start + len(complete)
