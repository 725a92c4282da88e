"""`userflow mail list|tail` over the local stack's journal of what moto's SES accepted, and what
they say about a deployed stack."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from samlocal.aws_endpoint import MotoServer
from samlocal.ses import MailJournal
from userflow.cli import main
from userflow.commands.mail import on_aws
from userflow.local_state import mail_journal_file
from userflow.stack import Stack

SENDER = "no-reply@example.com"


@pytest.fixture
def local_ses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """An embedded moto server journaling mail, recorded as the running local stack."""
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(tmp_path))
    journal = mail_journal_file()
    server = MotoServer(middleware=[lambda app: MailJournal(app, journal)])
    server.start()
    state = {
        "stack_name": "userflow-local",
        "region": "us-east-1",
        "endpoint_url": server.url,
        "api_url": "http://127.0.0.1:1",
        "resources": {},
        "pid": os.getpid(),
    }
    (tmp_path / "local.json").write_text(json.dumps(state))
    ses = boto3.client("sesv2", endpoint_url=server.url, region_name="us-east-1")
    ses.create_email_identity(EmailIdentity=SENDER)
    yield ses
    server.stop()


def _send(ses: object, to: str, subject: str) -> None:
    ses.send_email(  # type: ignore[attr-defined]
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": "hi ✓"}}}},
    )


def test_given_sent_and_refused_mail_when_listed_as_json_then_only_what_ses_accepted(
    local_ses: object, capsys: pytest.CaptureFixture[str]
) -> None:
    _send(local_ses, "ann@example.com", "first")
    _send(local_ses, "bob@example.com", "second")
    with pytest.raises(Exception, match="not verified"):
        local_ses.send_email(  # type: ignore[attr-defined]
            FromEmailAddress="stranger@example.com",
            Destination={"ToAddresses": ["ann@example.com"]},
            Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}},
        )

    code = main(["mail", "list", "--to", "ANN@example.com", "--json"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    [message] = [json.loads(line) for line in lines]
    assert set(message) == {"to", "subject", "text", "sent_at"}
    assert (message["to"], message["subject"], message["text"]) == (
        "ann@example.com",
        "first",
        "hi ✓",
    )
    assert message["sent_at"].endswith("Z")


def test_given_mail_when_tailed_from_the_start_then_it_stops_after_count(
    local_ses: object, capsys: pytest.CaptureFixture[str]
) -> None:
    _send(local_ses, "ann@example.com", "one")
    _send(local_ses, "ann@example.com", "two")

    code = main(["mail", "tail", "--from-start", "--count", "2", "--timeout", "5", "--json"])
    missing = main(["mail", "tail", "--count", "1", "--timeout", "0.5"])

    subjects = [json.loads(line)["subject"] for line in capsys.readouterr().out.splitlines()]
    assert (code, subjects, missing) == (0, ["one", "two"], 1)


def test_given_a_deployed_stack_then_mail_commands_point_to_ses() -> None:
    stack = Stack(
        name="userflow-prod",
        region="eu-west-1",
        endpoint_url=None,
        resources={"MailConfigurationSet": {"physical_id": "userflow-prod-mail", "type": "x"}},
    )

    text = on_aws(stack)

    assert "Amazon SES" in text
    assert "get-send-statistics --region eu-west-1" in text
    assert "userflow-prod-mail" in text
    assert "AWS/SES" in text
