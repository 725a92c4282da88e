"""Warm request overhead: the function's own CPU time per request, AWS round trips excluded.

Every API function (and the authorizer) runs in this process, warm, as `userflow local` runs it
(the template's environment), against `userflow local`'s AWS endpoint in another process: the
CPU time of this process (``time.process_time``) is the function's work (parsing, validation,
domain, request signing, response parsing, logging), while AWS's own work and the network wait
are not counted. The baseline, measured the same way in the same run, is a minimal handler that
makes the same kind of AWS call with plain boto3 and ``json``, as many times as the function
called AWS (plus the one argon2id hash of login and registration). Target: at most 2x.
Run: ``.venv/bin/python -m benchmarks.warm_requests``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.endpoint import Endpoint

from benchmarks.cold_start import (
    CALL_KIND,
    HASHING_FUNCTIONS,
    OWN_USER_FUNCTIONS,
    baseline_load,
)
from benchmarks.local_stack import BenchStack, BenchUser, local_stack, save_results
from benchmarks.sample_events import sample_event

ITERATIONS = int(os.environ.get("BENCH_WARM_ITERATIONS", "20"))
WARM_UP = 3
TARGET = 2.0
# Not request paths: the rotation and stream steps, and the deploy's pre-traffic check (it calls
# CodeDeploy, which the local stack does not serve).
NOT_HTTP = {"KeyRotationFunction", "UserStreamProcessorFunction", "PreTrafficCheckFunction"}
# A refresh token and an If-Match version are good once: these get a user per request too.
FRESH_USER = OWN_USER_FUNCTIONS | {"RefreshTokenFunction", "UpdateUserFunction"}


class CallCounter:
    """Counts AWS requests sent by this process (botocore's endpoint), to give the baseline as
    many calls as the function makes."""

    def __init__(self) -> None:
        self.count = 0
        original = Endpoint.make_request

        def counted(endpoint: Endpoint, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(endpoint, *args, **kwargs)

        Endpoint.make_request = counted  # type: ignore[method-assign,assignment]


def baseline_handler(kind: str, hashes: bool, environment: Environment) -> Callable[..., Any]:
    """The minimal handler, loaded once under the function's environment (its client too)."""
    namespace: dict[str, Any] = {}
    source = baseline_load(kind, hashes)
    environment.run(lambda: exec(compile(source, f"<baseline {kind}>", "exec"), namespace))  # noqa: S102
    handler: Callable[..., Any] = namespace["handler"]
    return handler


def cpu_ms(call: Callable[[], Any]) -> float:
    started = time.process_time()
    call()
    return (time.process_time() - started) * 1000


class Environment:
    """Applies a function's variables around a call, as the local invoker does."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def run(self, call: Callable[[], Any]) -> Any:
        saved = dict(os.environ)
        os.environ.update(self.values)
        try:
            return call()
        finally:
            os.environ.clear()
            os.environ.update(saved)


def measure_function(
    bench: BenchStack, calls: CallCounter, logical_id: str, handler_path: str
) -> dict[str, Any]:
    iterations = ITERATIONS // 2 if logical_id in FRESH_USER else ITERATIONS
    shared = bench.new_user()
    users: list[BenchUser] = [
        bench.new_user() if logical_id in FRESH_USER else shared
        for _ in range(iterations + WARM_UP)
    ]
    events = [sample_event(logical_id, handler_path, user, bench) for user in users]
    kind = CALL_KIND.get(logical_id, "dynamodb")
    hashes = logical_id in HASHING_FUNCTIONS
    environment = Environment(bench.invoker.runtime_environment(bench.invoker.function(logical_id)))
    baseline = baseline_handler(kind, hashes, environment)
    function_ms: list[float] = []
    baseline_ms: list[float] = []
    made: list[int] = []
    outcomes: set[str] = set()
    for index, event in enumerate(events):
        before = calls.count
        started = time.process_time()
        result = bench.invoker.invoke(logical_id, event)
        spent = (time.process_time() - started) * 1000
        made.append(calls.count - before)
        outcomes.add(str(result.get("statusCode", result.get("isAuthorized"))))
        repeat = max(1, made[-1])
        base = cpu_ms(partial(environment.run, partial(baseline, event, None, repeat)))
        if index >= WARM_UP:
            function_ms.append(spent)
            baseline_ms.append(base)
    function, base = statistics.median(function_ms), statistics.median(baseline_ms)
    return {
        "cpu_ms": round(function, 2),
        "baseline": f"{kind}+argon2id" if hashes else kind,
        "baseline_cpu_ms": round(base, 2),
        "ratio": round(function / base, 2),
        "iterations": len(function_ms),
        "aws_calls": statistics.median(made[WARM_UP:]),
        "outcomes": sorted(outcomes),
    }


def main() -> int:
    with local_stack() as bench:
        functions = {
            logical_id: str(bench.template.function_properties(logical_id)["Handler"])
            for logical_id in sorted(bench.template.of_type("AWS::Serverless::Function"))
            if logical_id not in NOT_HTTP
        }
        calls = CallCounter()
        rows = {lid: measure_function(bench, calls, lid, path) for lid, path in functions.items()}
    results = {"target_ratio": TARGET, "functions": rows}
    print("Warm request: function CPU ms per request (median), AWS round trips excluded")
    print(
        f"{'function':30} {'cpu ms':>8} {'calls':>5} {'baseline':>18} {'base ms':>8} {'ratio':>6}"
    )
    for logical_id, row in rows.items():
        print(
            f"{logical_id:30} {row['cpu_ms']:8.2f} {row['aws_calls']:5.0f} {row['baseline']:>18} "
            f"{row['baseline_cpu_ms']:8.2f} {row['ratio']:6.2f}  {','.join(row['outcomes'])}"
        )
    save_results("warm_requests", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
