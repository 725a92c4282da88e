"""The deploy smoke test (scripts/smoke_test.py), run as CI runs it, against the local stack."""

from __future__ import annotations

import pytest

from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e


def test_given_a_running_stack_when_the_smoke_test_runs_then_every_step_passes(
    local_stack: LocalStack,
) -> None:
    result = local_stack.run("scripts.smoke_test", "--event-timeout", "30")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  subscription delivers (canary" in result.stdout
    assert "ok  UserCreated event" in result.stdout
    assert "(email_domain smoke.userflow.example.com)" in result.stdout  # marked synthetic
    assert "ok  DELETE /users/{id} -> 204" in result.stdout
