"""The capacity model (docs/capacity.md) from measured work: demand, limits and bottlenecks."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.call_counts import MIX
from samlocal.template import load_template
from scripts import capacity_limits as limits
from scripts.generate_capacity import (
    MEMORY_HEADROOM,
    Inputs,
    committed_inputs,
    demand_per_request,
    saturation,
    stream_of,
)
from scripts.render_capacity import render

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def route(**figures: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "statuses": [200],
        "invocations": {},
        "calls": {},
        "write_units": 0,
        "read_units": 0,
        "list_index_writes": 0,
        "stream_records": {},
        "events": {},
    }
    row.update(figures)
    return row


def inputs(*, sign_up_mail: float = 1.0, batch_records_per_second: float = 5_000.0) -> Inputs:
    """Half reads, half sign-ups (each writing the list index once and queueing one mail)."""
    calls = {
        "runs": 1,
        "mix": {"GET /users/me": 1, "POST /users": 1},
        "routes": {
            "GET /users/me": route(
                invocations={"AuthorizerFunction": 1, "GetUserFunction": 1},
                calls={"dynamodb:GetItem": 1},
                read_units=1,
            ),
            "POST /users": route(
                invocations={"CreateUserFunction": 1},
                calls={"dynamodb:TransactWriteItems": 1},
                write_units=6,
                list_index_writes=1,
                stream_records={"user": 1, "mail": sign_up_mail, "other": 1},
                events={"UserCreated": 1},
            ),
        },
    }
    warm = {
        "AuthorizerFunction": {"cpu_ms": 1.0, "aws_calls": 0},
        "GetUserFunction": {"cpu_ms": 1.5, "aws_calls": 1},
        "CreateUserFunction": {"cpu_ms": 80.0, "aws_calls": 3},
        "LoginFunction": {"cpu_ms": 80.0, "aws_calls": 4},
        "MailerFunction": {"cpu_ms": 1.5, "aws_calls": 1},
    }
    return Inputs(calls, warm, batch_records_per_second, TEMPLATE)


def test_given_the_mix_when_demand_is_computed_then_it_is_the_share_weighted_work() -> None:
    demand = demand_per_request(inputs())

    assert demand[limits.API_GATEWAY] == 1
    assert demand[limits.TABLE_WRITES] == pytest.approx(3.0)  # half the requests write 6 WRU
    assert demand[limits.PARTITION_WRITES] == pytest.approx(0.5)
    assert demand[limits.SES_SANDBOX] == pytest.approx(0.5)
    assert demand[limits.PUT_EVENTS] == pytest.approx(0.5)


def test_given_limits_when_ordered_then_each_is_reached_at_its_value_over_its_demand() -> None:
    reached = {limit: rate for rate, limit in saturation(demand_per_request(inputs()))}

    assert reached[limits.SES_SANDBOX] == pytest.approx(2.0)  # 1 email/s, 0.5 per request
    assert reached[limits.PARTITION_WRITES] == pytest.approx(2_000)
    assert reached[limits.API_GATEWAY] == pytest.approx(10_000)
    ordered = [limit for _, limit in saturation(demand_per_request(inputs()))]
    assert ordered.index(limits.PARTITION_WRITES) < ordered.index(limits.API_GATEWAY)


def test_given_a_slow_batch_when_the_stream_is_modelled_then_the_shard_carries_less() -> None:
    fast, slow = stream_of(inputs()), stream_of(inputs(batch_records_per_second=500))

    assert fast.batch_size == 100  # the template's BatchSize
    assert slow.shard_records_per_second < fast.shard_records_per_second
    assert fast.put_events_per_record == pytest.approx(0.1)


def test_given_the_model_when_rendered_then_each_step_names_its_first_bottleneck() -> None:
    document = render(inputs())

    assert "- **100/s**: first **SES sending rate (sandbox)**; in the order reached:" in document
    assert "1. SES sending rate (sandbox): reached at 2/s (50 emails/s needed" in document
    assert limits.PARTITION_WRITES.name in document
    assert limits.API_GATEWAY.url in document
    assert "keeps up" in document
    assert "so from none a sudden step to that rate is served within 10 s" in document


def test_given_no_mail_when_rendered_then_10000_is_past_the_table_and_index_limits() -> None:
    document = render(inputs(sign_up_mail=0))
    steps = document.split("- **")

    assert next(s for s in steps if s.startswith("100/s")).startswith("100/s**: none; the nearest")
    at_10000 = next(s for s in steps if s.startswith("10,000/s"))
    # 3 WRU per request: a new table's 4,000 WRU/s first, then the index's one partition.
    assert f"1. {limits.NEW_TABLE_WRITES.name}: reached at 1,333/s" in at_10000
    assert f"2. {limits.PARTITION_WRITES.name}: reached at 2,000/s" in at_10000


def test_given_a_local_load_run_when_rendered_then_its_figures_are_the_emulator_s() -> None:
    local_load = {
        "requests": 1000,
        "users": 50,
        "throughput_rps": 12.5,
        "elapsed_s": 80.0,
        "cores": 2,
        "load_average": 9.5,
        "latency_ms": {"p50": 900, "p95": 4000, "p99": 6000},
        "latency_max_ms": 7000,
        "idle_read_p50_ms": 15.2,
        "statuses": {"200": 900, "201": 50, "204": 50},
        "server_errors": 0,
        "hash_cpu_ms": 150.0,
        "hashing_requests": 160,
    }
    measured = render(replace(inputs(), local_load=local_load))

    assert "describe the local emulator" in measured
    assert "12.5 requests/s over 80.0 s" in measured
    assert "160 of them are 24 core-seconds, 0.30 of the 2 cores" in measured
    assert "Not measured in this run" in render(inputs())


def test_given_the_load_scenario_then_the_model_weighs_the_same_requests_and_weights() -> None:
    """The model's mix is the Locust scenario's (benchmarks/locustfile.py), per 25 requests."""
    tree = ast.parse((ROOT / "benchmarks" / "locustfile.py").read_text())
    expected = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "EXPECTED"
    )
    weights: list[int] = [
        decorator.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "task"
        if isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, int)
    ]

    assert isinstance(expected, ast.Dict)
    assert {key.value for key in expected.keys if isinstance(key, ast.Constant)} == set(MIX)
    # A deletion is followed by the new person's sign-up and login: two more requests.
    assert sorted(weights) == sorted([8, 4, 3, 3, 2, 1, 1, 1])
    assert sum(MIX.values()) == sum(weights) + 2


def test_given_the_committed_figures_when_rendered_then_docs_capacity_md_is_what_they_make() -> (
    None
):
    document = render(committed_inputs())

    assert document == (ROOT / "docs" / "capacity.md").read_text(), (
        "docs/capacity.md is stale: `make capacity` renders it from docs/capacity-inputs.json"
    )


def test_given_measured_peaks_when_rendered_then_each_function_s_memory_is_weighed() -> None:
    measured = render(replace(inputs(), peak_rss_mb={"GetUserFunction": 64.0}))

    assert "| GetUserFunction | 512 | 64 | 8.0x | 1.50 | 5.18 |" in measured
    assert "| JwksFunction | 256 | not yet |  |  |  |" in measured
    assert "Not measured in this run: `benchmarks/cold_start.py`" in render(inputs())


def test_given_the_measured_peaks_then_every_function_has_its_memory_headroom() -> None:
    """Memory sizes follow measurement: none below twice what its cold request used."""
    committed = committed_inputs()
    assert committed.peak_rss_mb, "docs/capacity-inputs.json has no peak RSS: `make bench`"
    # A function added since the last `make bench` shows as not measured yet in the document.
    assert set(committed.peak_rss_mb) <= set(TEMPLATE.of_type("AWS::Serverless::Function"))

    short = {
        function: (committed.memory(function), peak)
        for function, peak in committed.peak_rss_mb.items()
        if committed.memory(function) < MEMORY_HEADROOM * peak
    }
    assert short == {}
