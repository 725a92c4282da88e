"""Functions run as Lambda runs them: own environments, in parallel, stopped at their Timeout."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.local_stack import HttpResult, LocalStack

pytestmark = pytest.mark.e2e


def _wait_for(stack: LocalStack, pattern: str) -> re.Match[str]:
    """The first console line matching ``pattern`` (function output arrives asynchronously)."""
    deadline = time.monotonic() + 10
    while (found := re.search(pattern, stack.output(), re.MULTILINE)) is None:
        assert time.monotonic() < deadline, f"no {pattern!r} in:\n{stack.output()}"
        time.sleep(0.1)
    return found


def test_given_two_functions_when_invoked_then_each_sees_only_its_own_variables(
    probe_stack: LocalStack,
) -> None:
    echo = probe_stack.request("GET", "/echo").json()
    other = probe_stack.request("GET", "/other").json()

    assert echo["env"] == {"ONLY_ECHO": "echo", "ONLY_OTHER": None}
    assert other["env"] == {"ONLY_ECHO": None, "ONLY_OTHER": "other"}
    assert echo["pid"] != other["pid"]


def test_given_a_warm_worker_when_invoked_again_then_module_state_is_kept(
    probe_stack: LocalStack,
) -> None:
    first = probe_stack.request("GET", "/other").json()
    second = probe_stack.request("GET", "/other").json()

    assert second["pid"] == first["pid"]
    assert second["count"] == first["count"] + 1


def test_given_parallel_calls_of_one_function_when_running_then_each_gets_its_own_worker(
    probe_stack: LocalStack,
) -> None:
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: probe_stack.request("GET", "/slow?s=1.5"), range(3)))

    assert [result.status for result in results] == [200, 200, 200]
    assert len({result.json()["pid"] for result in results}) == 3


def test_given_a_busy_function_when_another_is_called_then_it_answers_meanwhile(
    probe_stack: LocalStack,
) -> None:
    probe_stack.request("GET", "/echo")  # warm
    slow_done = threading.Event()
    slow: list[HttpResult] = []

    def call_slow() -> None:
        slow.append(probe_stack.request("GET", "/slow?s=1.8"))
        slow_done.set()

    thread = threading.Thread(target=call_slow)
    thread.start()
    time.sleep(0.3)
    echo = probe_stack.request("GET", "/echo")
    answered_while_busy = not slow_done.is_set()
    thread.join()

    assert echo.status == 200
    assert answered_while_busy
    assert slow[0].status == 200


def test_given_a_function_past_its_timeout_when_invoked_then_500_and_the_worker_is_stopped(
    probe_stack: LocalStack,
) -> None:
    timed_out = probe_stack.request("GET", "/slow?s=30")
    after = probe_stack.request("GET", "/slow?s=0")

    assert timed_out.status == 500
    assert timed_out.json() == {"message": "Internal Server Error"}
    assert after.status == 200
    _wait_for(probe_stack, r"SlowFunction Task timed out after 2\.\d\d seconds")


def test_given_a_first_call_when_it_answers_then_the_access_line_reports_a_cold_start(
    probe_stack: LocalStack,
) -> None:
    # OtherFunction's first call on this stack (by this test, or one before it on this worker).
    probe_stack.request("GET", "/other")
    probe_stack.request("GET", "/echo?first")
    probe_stack.request("GET", "/echo?again")

    _wait_for(
        probe_stack, r"^\S+ GET /other 200 \d+ ms \| OtherFunction \d+ ms \(cold, init \d+ ms\)$"
    )
    _wait_for(probe_stack, r"^\S+ GET /echo 200 \d+ ms \| EchoFunction \d+ ms \(warm\)$")


def test_given_a_failing_function_when_invoked_then_500_and_its_traceback_on_the_console(
    probe_stack: LocalStack,
) -> None:
    response = probe_stack.request("GET", "/fail")

    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
    _wait_for(probe_stack, r"^\S+ \[FailFunction\] about to fail$")
    _wait_for(probe_stack, r"^\S+ \[FailFunction\] Traceback \(most recent call last\):$")
    _wait_for(probe_stack, r"^\S+ \[FailFunction\] ValueError: probe failure$")
    access = _wait_for(probe_stack, r"^\S+ GET /fail 500 \d+ ms \| FailFunction")
    output = probe_stack.output()
    assert output.index("ValueError: probe failure") < access.start()  # logs before the line
    assert "Warning" not in output


def test_given_a_worker_that_dies_mid_invocation_when_invoked_then_500_and_the_next_call_runs(
    probe_stack: LocalStack,
) -> None:
    first = probe_stack.request("GET", "/crash")
    second = probe_stack.request("GET", "/crash")

    assert (first.status, second.status) == (500, 500)
    assert first.json() == {"message": "Internal Server Error"}
    _wait_for(probe_stack, r"CrashFunction Runtime exited")


def test_given_a_handler_that_cannot_be_imported_when_invoked_then_500_and_the_cause_shown(
    probe_stack: LocalStack,
) -> None:
    response = probe_stack.request("GET", "/broken")

    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
    _wait_for(
        probe_stack, r"\[BrokenFunction\] ModuleNotFoundError: No module named 'probe_missing"
    )


def _ended(pid: int) -> bool:
    """Whether a process has exited (a zombie its parent has not reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except FileNotFoundError:
        return True


def test_given_an_idle_worker_killed_when_its_function_is_called_then_a_new_one_answers(
    probe_stack: LocalStack,
) -> None:
    victim = probe_stack.request("GET", "/victim").json()["pid"]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _ended(victim):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    after = probe_stack.request("GET", "/victim")

    assert after.status == 200
    assert after.json()["pid"] != victim
    assert after.json()["count"] == 1  # a new environment: a cold start
    _wait_for(probe_stack, r"^\S+ GET /victim 200 \d+ ms \| VictimFunction \d+ ms \(cold, init")
    assert "VictimFunction Runtime exited" not in probe_stack.output()


def test_given_a_worker_that_dies_mid_invocation_then_the_failure_is_logged_once(
    probe_stack: LocalStack,
) -> None:
    before = probe_stack.output().count("CrashFunction Runtime exited")

    response = probe_stack.request("GET", "/crash")
    _wait_for(probe_stack, r"^\S+ GET /crash 500 ")  # the access line comes after the error
    time.sleep(0.5)

    assert response.status == 500
    assert probe_stack.output().count("CrashFunction Runtime exited") == before + 1
