"""`userflow status` and the CLI's operator safety against a provisioned stack (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from adapters import key_store
from tests.support.api_clients import GatewayClient
from tests.support.operator_stack import record_as_local, stack_alarm
from userflow.cli import main
from userflow.stack import Stack


def _firing_alarm(stack: Stack) -> str:
    return stack_alarm(stack, "AuthorizerErrorsAlarm", "Threshold Crossed: 3 errors")


def test_given_a_quiet_stack_when_status_runs_then_it_names_the_target_and_exits_0(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status"])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.splitlines()[0].startswith(f"target: local stack {local.name!r}")
    assert "alarms: none exist" in captured.out
    assert "UserStreamPoisonQueue (dead letters): 0 / 0" in captured.out
    assert "ExampleSubscriberQueue: 0 / 0" in captured.out  # a live queue, not marked
    assert "stream iterator age (max, last 15 min): no data" in captured.out


def test_given_a_firing_alarm_a_dead_letter_and_lag_when_status_runs_then_it_shows_them_and_exits_1(
    local: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alarm = _firing_alarm(local)
    record_as_local(local, tmp_path, monkeypatch)  # the stack now has that alarm
    local.client("sqs").send_message(
        QueueUrl=local.physical_id("UserStreamPoisonQueue"), MessageBody="{}"
    )
    function = local.physical_id("UserStreamProcessorFunction")
    local.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Value": 420000,
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            }
        ],
    )

    code = main(["status"])

    out = capsys.readouterr().out
    assert code == 1
    assert "alarms: 1 of 1 in ALARM" in out
    assert f"! {alarm}: Threshold Crossed: 3 errors" in out
    assert "! UserStreamPoisonQueue (dead letters): 1 / 0" in out
    assert "stream iterator age (max, last 15 min): 420000 ms" in out
    assert "needs attention" in out


def test_given_status_as_json_when_read_then_one_object_with_every_section(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json"]) == 0

    status = json.loads(capsys.readouterr().out)
    assert {"alarms_in_alarm", "queues", "iterator_age_ms", "events_archived"} <= set(status)
    assert {q["logical_id"] for q in status["queues"] if q["dead_letter"]} == {
        "UserStreamFailureQueue",
        "UserStreamPoisonQueue",
        "ExampleSubscriberDLQ",
        "MailDeadLetterQueue",
        "WebhookDeadLetterQueue",
    }


def test_given_an_unknown_queue_when_replaying_then_exit_2_and_the_valid_names_on_stderr(
    local: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dlq", "replay", "--queue", "Nope"])

    captured = capsys.readouterr()
    assert code == 2
    assert "no dead-letter queue named 'Nope'" in captured.err
    assert "UserStreamPoisonQueue" in captured.err
    assert "Nope" not in captured.out


def test_given_a_compromised_key_when_rotated_with_retain_0_then_no_new_token_uses_it(
    gateway: GatewayClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_as_local(gateway.stack, tmp_path, monkeypatch)
    monkeypatch.setattr(key_store, "SIGNER_CACHE_SECONDS", 1)
    user = gateway.register()
    dropped = jwt.get_unverified_header(gateway.login(user)["access_token"])["kid"]

    assert main(["keys", "rotate", "--retain-minutes", "0"]) == 0

    # No cache is reset: a warm login function signs right after the command returned.
    signed_with = jwt.get_unverified_header(gateway.login(user)["access_token"])["kid"]
    out = capsys.readouterr().out
    assert signed_with != dropped
    assert f"no new token is signed with {dropped}" in out
    assert f"EMERGENCY: {signed_with} signs from now; {dropped}" in out
    assert "Who may still accept tokens signed with the dropped keys, and until when:" in out
    assert "this stack's API (its authorizer) and JWKS route: until" in out
