"""docs/capacity.md: where the deployed stack stops scaling, for 100, 1,000 and 10,000 requests/s.

Demand comes from measured figures: the AWS work of every request of the load mix
(benchmarks/call_counts.py), each function's CPU per warm request (benchmarks/warm_requests.py),
the stream processor's throughput per batch (benchmarks/publish_batching.py) and, when it ran,
`make load` on the local stack (benchmarks/load.py); settings come from template.yaml; limits
from scripts/capacity_limits.py, each with its AWS source. Everything scales linearly with the
request rate, so each limit is reached at one rate: the first bottleneck of a step is the limit
reached at the lowest rate at or below it.

The measured figures the document uses are committed beside it (docs/capacity-inputs.json), so
that the document is reproducible without measuring and a test fails when it is stale (a
template setting, a limit or the rendering changed). Run:
``python -m scripts.generate_capacity --measured`` (`make bench`: takes the figures from
build/bench/ into docs/capacity-inputs.json, then renders) or ``python -m
scripts.generate_capacity`` (`make capacity`: renders from the committed figures).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

from samlocal.template import Template, load_template
from scripts import capacity_limits as limits
from scripts.capacity_limits import Limit
from scripts.generate_cost_model import AWS_ROUND_TRIP_MS, BENCH, FULL_VCPU_MB, ROOT, load_figures

OUTPUT = ROOT / "docs" / "capacity.md"
MEASURED = ROOT / "docs" / "capacity-inputs.json"
WARM_FIGURES = ("cpu_ms", "aws_calls")
LOCAL_LOAD = "local_load"  # `make bench`'s `make load` run on the local stack
MEMORY_HEADROOM = 2.0
"""A function's memory is at least this many times the peak RSS of its cold request."""
STEPS = (100, 1_000, 10_000)
STREAM = "UserStreamProcessorFunction"
MAILER = "MailerFunction"
EXTENSION_TTL_DEFAULT_S = 300  # the Parameters and Secrets extension's default cache TTL
PUT_EVENTS_ENTRIES = 10


def number_in(template: Template, value: Any) -> float:
    """A template value: a number, or a parameter's default (``!Ref Name``)."""
    if isinstance(value, dict) and "Ref" in value:
        value = template.body["Parameters"][value["Ref"]]["Default"]
    return float(value)


def stream_setting(template: Template, function: str, name: str, default: float) -> float:
    """A setting of ``function``'s DynamoDB stream mapping in the template."""
    for event in template.function_properties(function).get("Events", {}).values():
        if event.get("Type") == "DynamoDB":
            return number_in(template, event["Properties"].get(name, default))
    return default


@dataclass(frozen=True)
class Inputs:
    """Measured figures and template settings; demand at 1 request/s of the mix."""

    calls: dict[str, Any]
    warm: dict[str, Any]
    batch_records_per_second: float
    template: Template
    local_load: dict[str, Any] | None = None
    """`make load` on the local stack (benchmarks/load.py), when it ran."""
    peak_rss_mb: dict[str, float] | None = None
    """Each function's peak resident memory in a cold request (benchmarks/cold_start.py)."""

    def share(self) -> dict[str, float]:
        mix: dict[str, float] = self.calls["mix"]
        total = sum(mix.values())
        return {route: weight / total for route, weight in mix.items()}

    def per_request(self, figure: str, key: str | None = None) -> float:
        """A route figure averaged over the mix: its amount per request of the mix."""
        routes = self.calls["routes"]
        total = 0.0
        for route, share in self.share().items():
            value = routes[route][figure]
            total += share * (float(value.get(key, 0)) if key else sum(value.values()))
        return total

    def scalar(self, figure: str) -> float:
        routes = self.calls["routes"]
        return sum(share * float(routes[r][figure]) for r, share in self.share().items())

    def memory(self, function: str) -> int:
        memory = self.template.function_properties(function).get("MemorySize", 128)
        return int(number_in(self.template, memory))

    def environment(self, function: str) -> dict[str, Any]:
        env: dict[str, Any] = (
            self.template.function_properties(function).get("Environment", {}).get("Variables", {})
        )
        return env

    def stream_setting(self, function: str, name: str, default: float) -> float:
        return stream_setting(self.template, function, name, default)

    def seconds_per_request(self, function: str) -> float:
        """Warm duration: measured CPU scaled to the memory's vCPU share, plus AWS round trips."""
        row = self.warm[function]
        slowdown = max(1.0, FULL_VCPU_MB / self.memory(function))
        cpu_ms = float(row["cpu_ms"]) * slowdown
        return (cpu_ms + float(row["aws_calls"]) * AWS_ROUND_TRIP_MS) / 1000


@dataclass(frozen=True)
class Stream:
    """The event pipeline at 1 request/s of the mix."""

    records: float
    events: float
    batch_size: float
    parallelization: float
    batch_seconds: float

    @property
    def put_events_per_record(self) -> float:
        return self.events / self.records / PUT_EVENTS_ENTRIES if self.records else 0.0

    @property
    def shard_records_per_second(self) -> float:
        """What one shard's batches carry, one batch at a time per parallelization slot."""
        return self.batch_size / self.batch_seconds * self.parallelization


def stream_of(inputs: Inputs) -> Stream:
    records = inputs.per_request("stream_records", "user")
    events = inputs.per_request("events")
    batch = inputs.stream_setting(STREAM, "BatchSize", 100)
    calls = batch * (events / records if records else 0) / PUT_EVENTS_ENTRIES
    seconds = batch / inputs.batch_records_per_second + calls * AWS_ROUND_TRIP_MS / 1000
    return Stream(
        records=records,
        events=events,
        batch_size=batch,
        parallelization=inputs.stream_setting(STREAM, "ParallelizationFactor", 1),
        batch_seconds=seconds,
    )


def concurrency(inputs: Inputs) -> dict[str, float]:
    """Environments busy at 1 request/s, by function."""
    busy = {
        function: inputs.per_request("invocations", function) * inputs.seconds_per_request(function)
        for function in inputs.warm
        if function not in (STREAM, MAILER)
    }
    stream = stream_of(inputs)
    busy[STREAM] = stream.records / stream.batch_size * stream.batch_seconds
    busy[MAILER] = inputs.per_request("stream_records", "mail") * inputs.seconds_per_request(MAILER)
    return {f: b for f, b in busy.items() if b > 0}


def extension_reads(inputs: Inputs, busy: dict[str, float], suffix: str, ttl: str) -> float:
    """Cache refreshes per second at 1 request/s: each environment reads each value once a TTL."""
    total = 0.0
    for function, environments in busy.items():
        env = inputs.environment(function)
        values = sum(1 for name in env if name.endswith(suffix))
        if values and "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in env:
            seconds = number_in(inputs.template, env.get(ttl, EXTENSION_TTL_DEFAULT_S))
            total += environments * values / seconds
    return total


def demand_per_request(inputs: Inputs) -> dict[Limit, float]:
    """Each limit's demand at 1 request/s of the mix (all of it scales linearly)."""
    busy = concurrency(inputs)
    stream = stream_of(inputs)
    rules = len(inputs.template.of_type("AWS::Events::Rule"))
    mails = inputs.per_request("stream_records", "mail")
    mail_batch = inputs.stream_setting(MAILER, "BatchSize", 10)
    invocations = (
        inputs.per_request("invocations") + stream.records / stream.batch_size + mails / mail_batch
    )
    return {
        limits.API_GATEWAY: 1.0,
        limits.LAMBDA_INVOCATIONS: invocations,
        limits.LAMBDA_CONCURRENCY: sum(busy.values()),
        limits.TABLE_WRITES: inputs.scalar("write_units"),
        limits.TABLE_READS: inputs.scalar("read_units"),
        limits.NEW_TABLE_WRITES: inputs.scalar("write_units"),
        limits.PARTITION_WRITES: inputs.scalar("list_index_writes"),
        limits.PUT_EVENTS: stream.events,
        limits.RULE_INVOCATIONS: stream.events * rules,
        limits.SECRETS: extension_reads(inputs, busy, "_SECRET_ARN", "SECRETS_MANAGER_TTL"),
        limits.PARAMETERS: extension_reads(
            inputs, busy, "_PARAMETER_NAME", "SSM_PARAMETER_STORE_TTL"
        ),
        limits.SES_SANDBOX: mails,
    }


def saturation(demand: dict[Limit, float]) -> list[tuple[float, Limit]]:
    """The request rate at which each limit is reached, lowest first."""
    reached = [
        (limit.value / per_request if per_request else math.inf, limit)
        for limit, per_request in demand.items()
    ]
    return sorted(reached, key=lambda found: found[0])


def measured_from_bench(template: Template) -> dict[str, Any]:
    """The figures the model uses, from the benchmarks' results in build/bench/."""
    batching = load_figures("publish_batching")
    batch = str(int(stream_setting(template, STREAM, "BatchSize", 100)))
    warm = load_figures("warm_requests")["functions"]
    return {
        "calls": load_figures("call_counts"),
        "warm": {
            function: {name: row[name] for name in WARM_FIGURES} for function, row in warm.items()
        },
        "batch_records_per_second": float(batching["by_batch_size"][batch]["records_per_second"]),
        LOCAL_LOAD: load_figures(LOCAL_LOAD) if (BENCH / f"{LOCAL_LOAD}.json").exists() else None,
        "peak_rss_mb": {
            function: row["peak_rss_mb"]
            for function, row in load_figures("cold_start")["functions"].items()
        },
    }


def inputs_of(measured: dict[str, Any], template: Template) -> Inputs:
    return Inputs(
        calls=measured["calls"],
        warm=measured["warm"],
        batch_records_per_second=float(measured["batch_records_per_second"]),
        template=template,
        local_load=measured.get(LOCAL_LOAD),
        peak_rss_mb=measured.get("peak_rss_mb"),
    )


def committed_inputs() -> Inputs:
    """The model's inputs as committed: docs/capacity-inputs.json and template.yaml."""
    template = load_template(ROOT / "template.yaml")
    return inputs_of(json.loads(MEASURED.read_text()), template)


def main(argv: list[str]) -> int:
    from scripts.render_capacity import render

    if "--measured" in argv:
        template = load_template(ROOT / "template.yaml")
        measured = measured_from_bench(template)
        MEASURED.write_text(json.dumps(measured, indent=2) + "\n")
        sys.stdout.write(f"wrote {MEASURED.relative_to(ROOT)}\n")
    OUTPUT.write_text(render(committed_inputs()))
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
