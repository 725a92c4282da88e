"""`make load`'s Locust scenario runs against the local stack and gets only the answers it
expects: a change to the API that breaks the scenario shows here, not in a benchmark run."""

from __future__ import annotations

import pytest

from benchmarks.load import run_locust
from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e


def test_given_the_load_scenario_when_run_briefly_then_every_answer_is_one_it_expects(
    local_stack: LocalStack,
) -> None:
    # Two people: the scenario, not the machine, is under test (cold starts of four workers at
    # once on a busy 2-core machine can take longer than a function's timeout).
    report = run_locust(local_stack.api_url, users=2, requests=60, spawn_rate=2, limit="120s")

    assert report["requests"] >= 60
    assert report["server_errors"] == 0
    assert report["unexpected"] == {}
    assert {"POST /users", "POST /auth/login", "GET /users/me"} <= set(report["by_request"])
    assert report["latency_ms"]["p50"] > 0
