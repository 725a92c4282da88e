"""Cold requests: a fresh interpreter imports a function's handler and handles one request.

For every function in template.yaml, N times: a new Python process (interpreter start included,
as in a new Lambda container) imports the handler and invokes it with the project's sample event
(``events/``, filled in with a real user and tokens, a session that has just logged in, and
for the second login step a user whose TOTP is on), with the function's environment from the
template, against `userflow local` (its AWS endpoint and parameters extension). Imports deferred
into the first call are counted. The baseline, measured in the same run, is a minimal handler
that imports boto3 and ``json`` and makes the same kind of AWS call (plus, for login and
registration, the one argon2id hash any implementation must compute). Each run times the
process twice: wall time, and the CPU time it used (user + system), which is what a cold start
costs apart from waiting on AWS and the one figure a shared machine does not distort: with other
work on the cores, wall time mostly measures the scheduler and the local AWS endpoint's answers
(which a function making four calls waits for four times). Ratios are of medians of
``BENCH_RUNS`` (default 5). Run: ``.venv/bin/python -m benchmarks.cold_start``.

Also measured, as references: GetUser with the garbage collector running through its start
(``handlers/cold_start.py`` pauses it), and two *library floors*, the DynamoDB baseline that in
addition loads Powertools' Logger and Metrics and one pydantic model (``models``), and also
Powertools' HTTP resolver with request validation (``resolver``), which the API functions used
before their own router.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.local_stack import ROOT, BenchStack, local_stack, save_results
from benchmarks.sample_events import sample_event
from domain.passwords import PRODUCTION_COST

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TARGET = 1.3

# The minimal handler's AWS client and call, by the kind of call each function makes.
BASELINE_SERVICE = {
    "dynamodb": "dynamodb",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "events": "events",
}
BASELINE_CALLS = {
    "dynamodb": (
        "client.get_item(TableName=os.environ['TABLE_NAME'],"
        " Key={'PK': {'S': 'USER#bench'}, 'SK': {'S': 'PROFILE'}}, ConsistentRead=True)"
    ),
    "ssm": "client.get_parameter(Name=os.environ['JWKS_PARAMETER_NAME'])",
    "secretsmanager": "client.describe_secret(SecretId=event['SecretId'])",
    "events": (
        "client.put_events(Entries=[{'Source': 'bench', 'DetailType': 'Bench',"
        " 'Detail': '{}', 'EventBusName': os.environ['EVENT_BUS_NAME']}])"
    ),
}
ARGON2_HASH = (
    f"__import__('argon2').PasswordHasher(time_cost={PRODUCTION_COST.time_cost},"
    f" memory_cost={PRODUCTION_COST.memory_kib}, parallelism={PRODUCTION_COST.parallelism})"
    ".hash('a benchmark passphrase')"
)
HASHING_FUNCTIONS = {"LoginFunction", "CreateUserFunction"}
# Forgot-password answers no sooner than this (so timing tells nothing): a deliberate wait, not
# cold start, so it is set to 0 here.
NO_WAIT = {"PasswordRecoveryFunction": {"FORGOT_PASSWORD_MIN_MILLISECONDS": "0"}}
MODELS_FLOOR = """
import pydantic
from aws_lambda_powertools import Logger, Metrics
Logger(), Metrics()
class Model(pydantic.BaseModel):
    name: str
Model(name="floor")
"""
LIBRARY_FLOORS = {
    "models": MODELS_FLOOR,
    "resolver": MODELS_FLOOR
    + """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
APIGatewayHttpResolver(enable_validation=True)
""",
}
COLLECTING_REFERENCE = "GetUserFunction, collector running"
# These end their caller's sessions (or the caller): each gets a user of its own.
OWN_USER_FUNCTIONS = {"AccountStatusFunction", "LogoutFunction", "DeleteUserFunction"}
CALL_KIND = {
    "AuthorizerFunction": "ssm",
    "JwksFunction": "ssm",
    "KeyRotationFunction": "secretsmanager",
    "UserStreamProcessorFunction": "events",
}
CHILD = """
import json, sys, time
class Context:
    function_name = "bench"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "cold-start"; log_group_name = "bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 10000
event = json.loads(sys.stdin.read())
{load}
try:
    result = handler(event, Context())
    outcome = "ok"
    if isinstance(result, dict):
        outcome = result.get("statusCode", result.get("isAuthorized", "ok"))
except Exception as error:
    outcome = type(error).__name__
print("OUTCOME", outcome)
import resource
print("RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
BASELINE_LOAD = """
import json, os, boto3
client = boto3.client("{service}")
def handler(event, context=None, calls=1):
    result = [{call} for _ in range(calls)][-1]
    {extra}
    return {{"statusCode": 200, "body": json.dumps(result, default=str)}}
"""


def handler_load(handler_path: str) -> str:
    module, _, attribute = handler_path.rpartition(".")
    return f"from {module} import {attribute} as handler"


def baseline_load(kind: str, hashes: bool) -> str:
    extra = ARGON2_HASH if hashes else "pass"
    return BASELINE_LOAD.format(
        service=BASELINE_SERVICE[kind], call=BASELINE_CALLS[kind], extra=extra
    )


def library_floor_load(floor: str) -> str:
    return LIBRARY_FLOORS[floor] + baseline_load("dynamodb", hashes=False)


# GetUser as it would start if the collector ran all along (resumed as soon as it pauses).
COLLECTING = "import handlers.cold_start; handlers.cold_start.resume_collection()\n"


@dataclass
class Samples:
    """Wall and CPU milliseconds of each run, and the process's peak RSS (MB)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def add(self, timing: tuple[float, float, float]) -> None:
        self.wall.append(timing[0])
        self.cpu.append(timing[1])
        self.rss.append(timing[2])

    def medians(self) -> tuple[float, float]:
        return statistics.median(self.wall), statistics.median(self.cpu)


def cold_milliseconds(
    load: str, event: Any, env: dict[str, str]
) -> tuple[tuple[float, float, float], str]:
    """Wall and CPU time of a fresh interpreter that loads a handler and handles ``event`` once,
    and its peak resident memory in MB (what the function's memory size must hold at least)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, "-c", CHILD.format(load=load)],
        input=json.dumps(event),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    outcome = next(
        (line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("OUTCOME")),
        f"crashed: {done.stderr.strip().splitlines()[-1:]}",
    )
    rss_kib = next(
        (float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("RSS ")),
        0.0,
    )
    return (elapsed, cpu, rss_kib / 1024), outcome


def measure(bench: BenchStack) -> dict[str, Any]:
    functions = {
        logical_id: str(bench.template.function_properties(logical_id)["Handler"])
        for logical_id in sorted(bench.template.of_type("AWS::Serverless::Function"))
    }
    samples = {name: Samples() for name in functions}
    baselines: dict[str, Samples] = {}
    outcomes: dict[str, str] = {}
    references = {name: Samples() for name in (COLLECTING_REFERENCE, *LIBRARY_FLOORS)}
    for _ in range(RUNS):
        shared = bench.new_user()
        for logical_id, handler_path in functions.items():
            user = bench.new_user() if logical_id in OWN_USER_FUNCTIONS else shared
            env = {**bench.lambda_environment(logical_id), **NO_WAIT.get(logical_id, {})}
            event = sample_event(logical_id, handler_path, user, bench)
            load = handler_load(handler_path)
            timing, outcomes[logical_id] = cold_milliseconds(load, event, env)
            samples[logical_id].add(timing)
            kind = CALL_KIND.get(logical_id, "dynamodb")
            key = f"{kind}+argon2id" if logical_id in HASHING_FUNCTIONS else kind
            timing, outcome = cold_milliseconds(
                baseline_load(kind, logical_id in HASHING_FUNCTIONS), event, env
            )
            assert outcome == "200", f"baseline {key} failed: {outcome}"
            baselines.setdefault(key, Samples()).add(timing)
            if logical_id == "GetUserFunction":
                timing, outcome = cold_milliseconds(COLLECTING + load, event, env)
                assert outcome == "200", f"{COLLECTING_REFERENCE} failed: {outcome}"
                references[COLLECTING_REFERENCE].add(timing)
                for name in LIBRARY_FLOORS:
                    timing, outcome = cold_milliseconds(library_floor_load(name), event, env)
                    assert outcome == "200", f"library floor {name} failed: {outcome}"
                    references[name].add(timing)
    rows = {}
    for logical_id in functions:
        kind = CALL_KIND.get(logical_id, "dynamodb")
        key = f"{kind}+argon2id" if logical_id in HASHING_FUNCTIONS else kind
        rows[logical_id] = {
            **_row(samples[logical_id], baselines[key]),
            "baseline": key,
            "outcome": outcomes[logical_id],
        }
    return {
        "runs": RUNS,
        "target_ratio": TARGET,
        "functions": rows,
        "references": {
            name: {**_row(found, baselines["dynamodb"]), "baseline": "dynamodb"}
            for name, found in references.items()
        },
    }


def _row(found: Samples, baseline: Samples) -> dict[str, Any]:
    (wall, cpu), (base_wall, base_cpu) = found.medians(), baseline.medians()
    return {
        "cold_ms": round(wall, 1),
        "baseline_ms": round(base_wall, 1),
        "ratio": round(wall / base_wall, 2),
        "cpu_ms": round(cpu, 1),
        "baseline_cpu_ms": round(base_cpu, 1),
        "cpu_ratio": round(cpu / base_cpu, 2),
        "peak_rss_mb": round(max(found.rss), 1),
        "baseline_peak_rss_mb": round(max(baseline.rss), 1),
    }


def print_table(results: dict[str, Any]) -> None:
    print(f"Cold request (median of {results['runs']}), against a minimal boto3 handler")
    print(
        f"{'function':34} {'baseline':>17} {'cpu ms':>7} {'base':>5} {'ratio':>6}"
        f" {'wall ms':>8} {'base':>6} {'ratio':>6} {'RSS MB':>6}  first"
    )
    rows = {**results["functions"], **results["references"]}
    for name, row in rows.items():
        print(
            f"{name:34} {row['baseline']:>17} {row['cpu_ms']:7.0f} {row['baseline_cpu_ms']:5.0f}"
            f" {row['cpu_ratio']:6.2f} {row['cold_ms']:8.0f} {row['baseline_ms']:6.0f}"
            f" {row['ratio']:6.2f} {row['peak_rss_mb']:6.0f}  {row.get('outcome', '')}"
        )


def main() -> int:
    with local_stack() as bench:
        results = measure(bench)
    print_table(results)
    save_results("cold_start", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
