"""The Markdown of docs/capacity.md, from the capacity model (scripts/generate_capacity.py)."""

from __future__ import annotations

import math

from scripts import capacity_limits as limits
from scripts.generate_capacity import (
    MEMORY_HEADROOM,
    STEPS,
    STREAM,
    Inputs,
    concurrency,
    demand_per_request,
    saturation,
    stream_of,
)
from scripts.generate_cost_model import AWS_ROUND_TRIP_MS, FULL_VCPU_MB


def number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def rate(value: float) -> str:
    if math.isinf(value):
        return "never"
    return "over 1,000,000/s" if value > 1e6 else f"{value:,.0f}/s"


def mix_table(inputs: Inputs) -> list[str]:
    lines = [
        "| request | share | Lambda invocations | AWS calls | WRU | RRU | list-index writes |"
        " stream records (user, mail, other) | events |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for route, share in inputs.share().items():
        row = inputs.calls["routes"][route]
        records = row["stream_records"]
        lines.append(
            f"| `{route}` | {share:.0%} | {number(sum(row['invocations'].values()))} |"
            f" {number(sum(row['calls'].values()))} | {number(row['write_units'])} |"
            f" {number(row['read_units'])} | {number(row['list_index_writes'])} |"
            f" {number(records.get('user', 0))}, {number(records.get('mail', 0))},"
            f" {number(records.get('other', 0))} | {number(sum(row['events'].values()))} |"
        )
    return lines


def demand_table(inputs: Inputs) -> list[str]:
    demand = demand_per_request(inputs)
    steps = " | ".join(f"{step:,}/s" for step in STEPS)
    lines = [
        f"| limit (default) | {steps} | reached at |",
        "| --- | " + " | ".join("---:" for _ in STEPS) + " | ---: |",
    ]
    for reached, limit in saturation(demand):
        cells = []
        for step in STEPS:
            used = demand[limit] * step
            cells.append(f"{number(used)} ({used / limit.value:.0%})")
        lines.append(
            f"| [{limit.name}]({limit.url}): {number(limit.value)} {limit.unit} |"
            f" {' | '.join(cells)} | {rate(reached)} |"
        )
    return lines


def bottlenecks(inputs: Inputs) -> list[str]:
    """Per step, the limits reached on the way to it, in the order they are reached."""
    demand = demand_per_request(inputs)
    ordered = saturation(demand)
    lines = []
    for step in STEPS:
        hit = [(reached, limit) for reached, limit in ordered if reached <= step]
        if not hit:
            reached, nearest = ordered[0]
            lines.append(
                f"- **{step:,}/s**: none; the nearest is {nearest.name}, reached at"
                f" {rate(reached)}."
            )
            continue
        lines.append(f"- **{step:,}/s**: first **{hit[0][1].name}**; in the order reached:")
        for place, (reached, limit) in enumerate(hit, start=1):
            used = _need(demand[limit] * step, limit)
            lines.append(
                f"    {place}. {limit.name}: reached at {rate(reached)} ({used});"
                f" moves it: {limit.moves_it}."
            )
    return lines


def _need(used: float, limit: limits.Limit) -> str:
    return f"{number(used)} {limit.unit} needed, {number(limit.value)} by default"


def stream_section(inputs: Inputs) -> list[str]:
    stream = stream_of(inputs)
    top = STEPS[-1]
    records, events = stream.records * top, stream.events * top
    writes = demand_per_request(inputs)[limits.TABLE_WRITES] * top
    shards = max(1, math.ceil(writes / limits.PARTITION_WRITES.value))
    per_shard = records / shards
    needed = max(
        1, math.ceil(per_shard / (stream.shard_records_per_second / stream.parallelization))
    )
    verdict = (
        "keeps up" if needed <= stream.parallelization else "needs a higher ParallelizationFactor"
    )
    return [
        f"At {top:,} requests/s the mix changes {number(records)} user items per second, which"
        f" carry {number(events)} lifecycle events ({number(stream.events / stream.records)} per"
        " record: login bookkeeping publishes nothing).",
        "",
        f"- Records per invocation: BatchSize {number(stream.batch_size)} (full batches at this"
        " rate, so the 1 s batching window adds nothing).",
        f"- One batch takes {stream.batch_seconds * 1000:.0f} ms: {number(stream.batch_size)}"
        f" records at the measured {number(inputs.batch_records_per_second)} records/s"
        " (benchmarks/publish_batching.py, map + PutEvents in process) plus"
        f" {number(stream.batch_size * stream.put_events_per_record)} PutEvents calls of"
        f" {AWS_ROUND_TRIP_MS:.0f} ms ({number(stream.put_events_per_record)} per record,"
        " 10 entries each).",
        f"- One shard therefore carries {number(stream.shard_records_per_second)} records/s at"
        f" ParallelizationFactor {number(stream.parallelization)}.",
        f"- The table writes {number(writes)} WRU/s, so it has at least {shards} partitions, each"
        f" with its own stream shard: {number(per_shard)} records/s per shard at most (an even"
        f" spread), which needs ParallelizationFactor {needed}: the processor **{verdict}**.",
        f"- Readers per shard: two (this processor and the mailer). {limits.STREAM_READERS}.",
        f"- PutEvents: {number(events / 10)} requests/s of 10 entries, {number(events)} entries/s"
        f" against {number(limits.PUT_EVENTS.value)}/s in the largest Regions.",
    ]


def concurrency_table(inputs: Inputs) -> list[str]:
    top = STEPS[-1]
    busy = concurrency(inputs)
    lines = [
        f"| function | memory MB | seconds per request | environments at {top:,}/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for function, environments in sorted(busy.items(), key=lambda item: -item[1]):
        seconds = (
            stream_of(inputs).batch_seconds
            if function == STREAM
            else inputs.seconds_per_request(function)
        )
        lines.append(
            f"| {function} | {inputs.memory(function)} | {seconds:.3f} |"
            f" {number(environments * top)} |"
        )
    function, most = max(busy.items(), key=lambda item: item[1])
    steps = math.ceil(most * top / limits.LAMBDA_SCALING_ENVIRONMENTS)
    lines += [
        "",
        f"Scaling out: {limits.LAMBDA_SCALING}. The most environments one function needs at"
        f" {top:,}/s is {number(most * top)} ({function}), so from none a sudden step to that"
        f" rate is served within {steps * limits.LAMBDA_SCALING_SECONDS} s; all functions"
        f" together need {number(sum(busy.values()) * top)} of the account's"
        f" {number(limits.LAMBDA_CONCURRENCY.value)} (above).",
    ]
    return lines


def memory_section(inputs: Inputs) -> list[str]:
    """Each function's memory against what it was measured to use."""
    if not inputs.peak_rss_mb:
        return ["Not measured in this run: `benchmarks/cold_start.py` writes it."]
    lines = [
        "Each function's memory (`template.yaml`) against the peak resident memory of its cold"
        " request (`benchmarks/cold_start.py`: a fresh interpreter importing the handler and"
        " answering its sample event) and, where measured, its CPU per warm request"
        " (`benchmarks/warm_requests.py`). Lambda gives CPU in proportion to memory (one vCPU at"
        f" {FULL_VCPU_MB} MB): the functions that hash a password on every request (login,"
        f" registration) take {FULL_VCPU_MB} MB, where a hash costs the same GB-seconds as at"
        " any smaller size and takes the least time ([Passwords](api/auth.md#passwords)); the"
        " others wait on AWS longer than they compute, so memory and headroom set their size. A"
        " test fails if a"
        f" function has less than {MEMORY_HEADROOM:g}x its measured peak; one added since the"
        " last `make bench` shows as not measured yet.",
        "",
        "| function | memory MB | peak RSS MB | headroom | warm CPU ms | at this size ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for function in sorted(inputs.template.of_type("AWS::Serverless::Function")):
        memory = inputs.memory(function)
        peak = inputs.peak_rss_mb.get(function)
        warm = inputs.warm.get(function)
        cpu, scaled = ("", "")
        if warm is not None:
            slowdown = max(1.0, FULL_VCPU_MB / memory)
            cpu, scaled = number(warm["cpu_ms"]), number(warm["cpu_ms"] * slowdown)
        measured = [f"{peak:.0f}", f"{memory / peak:.1f}x"] if peak else ["not yet", ""]
        lines.append("| " + " | ".join([function, str(memory), *measured, cpu, scaled]) + " |")
    return lines


def local_load_section(inputs: Inputs) -> list[str]:
    """`make load` against `userflow local`: what the emulator on this machine sustains."""
    found = inputs.local_load
    if found is None:
        return ["Not measured in this run: `make load` (benchmarks/load.py) writes it."]
    latency = found["latency_ms"]
    statuses = ", ".join(f"{status}: {count}" for status, count in found["statuses"].items())
    lines = [
        "These figures describe the local emulator (`userflow local`, moto, every function a"
        " local process) on the machine that ran `make bench`, not AWS: there the ceiling is"
        " this machine's cores, long before any limit above.",
        "",
        f"- {found['requests']:,} requests of the mix from {found['users']} concurrent people:"
        f" {found['throughput_rps']:.1f} requests/s over {found['elapsed_s']} s, on"
        f" {found['cores']} cores (load average {found['load_average']} at the end, other work"
        " included).",
        f"- Latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms, p99"
        f" {latency['p99']:.0f} ms (max {found['latency_max_ms']:.0f} ms); `GET /users/me` alone,"
        f" before the load: {found['idle_read_p50_ms']} ms.",
        f"- Statuses: {statuses}; 5xx: {found['server_errors']}.",
    ]
    if found.get("hash_cpu_ms") is not None:
        demand = found["hashing_requests"] * found["hash_cpu_ms"] / 1000
        lines.append(
            f"- Sign-ups and logins hash a password at production cost ({found['hash_cpu_ms']:.0f}"
            f" ms of CPU each here): {found['hashing_requests']} of them are {demand:.0f}"
            f" core-seconds, {demand / found['elapsed_s']:.2f} of the {found['cores']} cores for"
            " the whole run."
        )
    return lines


def render(inputs: Inputs) -> str:
    runs = inputs.calls["runs"]
    return "\n".join(
        [
            "# Capacity model",
            "",
            "Generated by `python -m scripts.generate_capacity` (`make capacity`) from the"
            " measured figures in `docs/capacity-inputs.json` (`make bench` measures them again);"
            " do not edit by hand. Demand is measured: the AWS work of each request of the load mix"
            f" (`benchmarks/call_counts.py`, median of {runs} requests per route through the"
            " template's routes and authorizer, on moto), each function's CPU per warm request"
            " (`benchmarks/warm_requests.py`) and the stream processor's throughput"
            " (`benchmarks/publish_batching.py`); settings come from `template.yaml`; limits are"
            " AWS's documented defaults (`scripts/capacity_limits.py`, checked"
            f" {limits.LIMITS_CHECKED}), each linked to its source.",
            "",
            "## The mix, and what each request does",
            "",
            "The load scenario's mix (`make load`, issue 29): per 25 requests, 8 reads of the"
            " caller, 4 reads by id, 3 renames, 3 refreshes, 3 logins, one JWKS read, one"
            " sign-up with a taken email, and one account deletion followed by a new person's"
            " sign-up. WRU/RRU: DynamoDB request units by the items' sizes (a transaction's"
            " items count twice); list-index writes: GSI1 updates, all under its one partition"
            " key.",
            "",
            *mix_table(inputs),
            "",
            "## Demand at 100, 1,000 and 10,000 requests/s",
            "",
            "Each limit's demand grows with the rate, so each is reached at one rate (last"
            " column). Lambda durations: measured CPU scaled to the function's vCPU share (one"
            f" vCPU at {FULL_VCPU_MB} MB) plus {AWS_ROUND_TRIP_MS:.0f} ms per AWS call. Keys and"
            " the JWKS are read through the Parameters and Secrets extension, once per"
            " environment per TTL (the template's `SECRETS_MANAGER_TTL`, else 300 s).",
            "",
            *demand_table(inputs),
            "",
            "## First bottleneck at each step",
            "",
            *bottlenecks(inputs),
            "",
            "## The stream processor at 10,000 requests/s, on paper",
            "",
            *stream_section(inputs),
            "",
            "## Lambda environments by function",
            "",
            *concurrency_table(inputs),
            "",
            "## Memory sizes, from measurement",
            "",
            *memory_section(inputs),
            "",
            "## The local stack under `make load`",
            "",
            *local_load_section(inputs),
            "",
            "## What this does not cover",
            "",
            "- Cold starts: scaling out reads every key once per new environment and runs INIT"
            " ([Performance](performance.md)); each function adds at most 1,000 environments per"
            " 10 s.",
            "- Partition and shard counts are DynamoDB's to choose: the model takes one partition"
            " (and stream shard) per 1,000 WRU/s, the least the table can have.",
            "- Latency: the model counts capacity, not response times under load; `make load"
            " URL=https://...` measures a deployed stage (it creates and changes test users"
            " there).",
            "",
        ]
    )
