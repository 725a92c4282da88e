"""docs/cost.md from the benchmark figures (build/bench/*.json, `make bench`) and a dated price
table: dollars per million operations, itemised, and per month at 1M monthly active users next
to Amazon Cognito's per-MAU price. Run: ``python -m scripts.generate_cost_model``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from userflow.template import userflow_template

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench"
OUTPUT = ROOT / "docs" / "cost.md"

# us-east-1 list prices as checked on PRICES_DATED against the services' pricing pages (Lambda
# arm64 duration and requests, DynamoDB on-demand after its November 2024 cut, Cognito's
# Essentials and Lite tiers with their 10,000 free MAU); check them again before relying on
# them: every figure below follows from this table.
PRICES_DATED = "2026-12-03"
PRICE = {
    "http_api_per_million": 1.00,  # API Gateway HTTP API, first 300M requests/month
    "lambda_request_per_million": 0.20,
    "lambda_gb_second_arm64": 0.0000133334,  # INIT is billed at the same rate
    "dynamodb_write_unit_per_million": 0.625,  # on-demand WRU; transactional writes use 2
    "dynamodb_read_unit_per_million": 0.125,  # on-demand RRU; consistent read of <=4 KB = 1
    "eventbridge_event_per_million": 1.00,  # custom events put, per 64 KB chunk
    "sqs_request_per_million": 0.40,  # standard queue
    "ses_email_per_thousand": 0.10,
    "secrets_manager_call_per_10k": 0.05,
    "cognito_essentials_per_mau": 0.015,  # above 10,000 free MAU
}
COGNITO_LITE_TIERS = ((100_000, 0.0055), (1_000_000, 0.0046), (10_000_000, 0.00325))
# Assumptions the benchmarks cannot measure here.
AWS_ROUND_TRIP_MS = 6.0  # one in-region DynamoDB/EventBridge call, waited for (billed)
COLD_SHARE = 0.01  # share of requests that start a new execution environment
FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1769 MB, a proportional share below
EVENTS_PER_BATCH = 10  # records per stream batch at moderate traffic (window 1 s)
# Activity of one monthly active user, per month.
PROFILE = {
    "registrations": 0.05,
    "logins": 4,
    "refreshes": 30,
    "authorized reads": 100,
    "lifecycle events": 0.6,
    "emails": 0.05,
}
COGNITO_FREE_MAU = 10_000


@dataclass(frozen=True)
class Step:
    """One function invocation of an operation: memory and measured CPU per request."""

    function: str
    aws_calls: float


def load_figures(name: str) -> dict[str, Any]:
    path = BENCH / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make bench` first")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def lambda_dollars(
    function: str, memory: dict[str, int], cold: dict[str, Any], warm: dict[str, Any]
) -> float:
    """Request price plus GB-seconds of one invocation, cold starts (INIT billed) included."""
    mb = memory[function]
    slowdown = max(1.0, FULL_VCPU_MB / mb)
    row = warm[function]
    warm_ms = float(row["cpu_ms"]) * slowdown + float(row["aws_calls"]) * AWS_ROUND_TRIP_MS
    cold_ms = float(cold[function]["cold_ms"]) * slowdown
    billed_ms = (1 - COLD_SHARE) * warm_ms + COLD_SHARE * cold_ms
    gb_seconds = mb / 1024 * billed_ms / 1000
    return PRICE["lambda_request_per_million"] / 1e6 + gb_seconds * PRICE["lambda_gb_second_arm64"]


def per_million(items: dict[str, float]) -> dict[str, float]:
    return {name: dollars * 1e6 for name, dollars in items.items()}


def operations(
    memory: dict[str, int], cold: dict[str, Any], warm: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Dollars per operation, by line item."""

    def fn(name: str) -> float:
        return lambda_dollars(name, memory, cold, warm)

    http = PRICE["http_api_per_million"] / 1e6
    wru = PRICE["dynamodb_write_unit_per_million"] / 1e6
    rru = PRICE["dynamodb_read_unit_per_million"] / 1e6
    sqs = PRICE["sqs_request_per_million"] / 1e6
    return {
        "registrations": {
            "HTTP API": http,
            "Lambda CreateUser": fn("CreateUserFunction"),
            # user + email claim in one transaction (2 x 2 WRU), idempotency record put + update
            "DynamoDB": 4 * wru + 2 * wru + 1 * rru,
        },
        "logins": {
            "HTTP API": http,
            "Lambda Login": fn("LoginFunction"),
            # email claim + user reads; login state update; token + family in one transaction
            "DynamoDB": 2 * rru + 1 * wru + 4 * wru,
        },
        "refreshes": {
            "HTTP API": http,
            "Lambda RefreshToken": fn("RefreshTokenFunction"),
            "DynamoDB": 3 * rru + 6 * wru,
        },
        "authorized reads": {
            "HTTP API": http,
            "Lambda Authorizer": fn("AuthorizerFunction"),
            "Lambda GetUser": fn("GetUserFunction"),
            "DynamoDB": 1 * rru,
        },
        "lifecycle events": {
            "Lambda stream processor (per record)": fn("UserStreamProcessorFunction")
            / EVENTS_PER_BATCH,
            "EventBridge": PRICE["eventbridge_event_per_million"] / 1e6,
            "SQS subscriber (send, receive, delete)": 3 * sqs,
        },
        "emails": {"SES": PRICE["ses_email_per_thousand"] / 1000},
    }


def cognito_lite(mau: int) -> float:
    dollars, lower = 0.0, COGNITO_FREE_MAU
    for upper, price in COGNITO_LITE_TIERS:
        if mau > lower:
            dollars += (min(mau, upper) - lower) * price
        lower = upper
    return dollars


def render(ops: dict[str, dict[str, float]]) -> str:
    lines = [
        "# Cost model",
        "",
        "Generated by `python -m scripts.generate_cost_model` (`make bench`) from the benchmark",
        "figures in `build/bench/` and the price table in that script (us-east-1 list prices",
        f"recorded {PRICES_DATED}; check them before relying on them). Do not edit by hand.",
        "",
        "Lambda time per invocation = measured CPU per warm request (benchmarks/warm_requests.py),",
        f"scaled to the function's vCPU share (1 vCPU at {FULL_VCPU_MB} MB), plus",
        f"{AWS_ROUND_TRIP_MS:.0f} ms per AWS call waited for; {COLD_SHARE:.0%} of invocations",
        "also pay a cold start (benchmarks/cold_start.py, INIT billed). The stream processor",
        f"handles {EVENTS_PER_BATCH} records per invocation, its CPU time taken from",
        "benchmarks/publish_batching.py at that batch size.",
        "",
        "## Dollars per million operations",
        "",
        "| operation | line item | $ / million |",
        "| --- | --- | ---: |",
    ]
    for operation, items in ops.items():
        for item, dollars in per_million(items).items():
            lines.append(f"| {operation} | {item} | {dollars:.2f} |")
        lines.append(f"| **{operation}** | **total** | **{sum(items.values()) * 1e6:.2f}** |")
    mau = 1_000_000
    lines += [
        "",
        f"## One month at {mau:,} monthly active users",
        "",
        "Per user and month: " + ", ".join(f"{n} {op}" for op, n in PROFILE.items()) + ".",
        "",
        "| operation | count / month | $ / month |",
        "| --- | ---: | ---: |",
    ]
    auth_total = 0.0
    total = 0.0
    for operation, per_user in PROFILE.items():
        count = per_user * mau
        dollars = count * sum(ops[operation].values())
        total += dollars
        if operation in ("registrations", "logins", "refreshes"):
            auth_total += dollars
        lines.append(f"| {operation} | {count:,.0f} | {dollars:,.2f} |")
    essentials = (mau - COGNITO_FREE_MAU) * PRICE["cognito_essentials_per_mau"]
    lines += [
        f"| **total** | | **{total:,.2f}** |",
        "",
        f"Sign-up, sign-in and token refresh alone (what Cognito prices per MAU): "
        f"**${auth_total:,.2f}** a month. Amazon Cognito user pools for the same {mau:,} MAU:",
        f"Essentials ${essentials:,.2f}, Lite ${cognito_lite(mau):,.2f} a month (10,000 MAU",
        "free); with Cognito, authorized reads would still cost their HTTP API, function and",
        "DynamoDB items above (less the authorizer, replaced by HTTP API's free JWT authorizer).",
        "Not included: fixed monthly costs (secrets at $0.40 each, CloudWatch logs and alarms,",
        "the KMS key).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    template = userflow_template()
    memory = {
        logical_id: int(template.function_properties(logical_id).get("MemorySize", 128))
        for logical_id in template.of_type("AWS::Serverless::Function")
    }
    cold = load_figures("cold_start")["functions"]
    warm = load_figures("warm_requests")["functions"]
    # The stream processor's CPU per batch, from the throughput at that batch size (moto's own
    # work included, so an overestimate); one PutEvents per batch of up to 10.
    batching = load_figures("publish_batching")["by_batch_size"][str(EVENTS_PER_BATCH)]
    warm["UserStreamProcessorFunction"] = {
        "cpu_ms": EVENTS_PER_BATCH * 1000 / batching["records_per_second"],
        "aws_calls": 1,
    }
    OUTPUT.write_text(render(operations(memory, cold, warm)))
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
