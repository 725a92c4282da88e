"""`make load`: the Locust scenario (``benchmarks/locustfile.py``) against a base URL, with figures.

Without ``--url`` it starts `userflow local` (production hash cost, fresh state, free ports) and
also reports that stack's main process memory (RSS) before and after the run: the figures then
describe the local emulator on this machine, not AWS. With ``--url`` (``make load URL=...``) it
loads any deployment of the API — a deployed stage too: every request creates or changes test
users there.

Prints, and writes to ``build/bench/<name>.json``: requests, throughput, p50/p95/p99, statuses,
5xx count and unexpected statuses, and as the baseline measured in the same run the idle
latency of ``GET /users/me`` (one client) before the load.

Run: ``python -m benchmarks.load [--url URL] [--users 50] [--requests 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.local_stack import ROOT, local_stack, save_results

LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
MB = 1024 * 1024
HASHING = ("POST /users", "POST /users (email taken)", "POST /auth/login")
"""The scenario's requests that hash a password once each (sign-up, login)."""


def _request(url: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)  # noqa: S310 - a URL the user gave, or loopback
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def idle_read_ms(url: str, samples: int = 20) -> float:
    """Median ``GET /users/me`` with nothing else running: the baseline of this run."""
    email = f"load-baseline-{uuid.uuid4().hex[:12]}@example.com"
    password = "a load-test passphrase, never used elsewhere"  # noqa: S105
    _request(url, "POST", "/users", {"email": email, "password": password, "name": "Baseline"})
    token = _request(url, "POST", "/auth/login", {"email": email, "password": password})
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        _request(url, "GET", "/users/me", token=token["access_token"])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run_locust(
    url: str, users: int, requests: int, spawn_rate: float, limit: str
) -> dict[str, Any]:
    """Runs the scenario headless in its own process (Locust patches the interpreter with
    gevent); its summary, as ``locustfile.Tally.report`` writes it."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        env = {**os.environ, "LOAD_REQUESTS": str(requests), "LOAD_REPORT": str(report)}
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
        command += ["--users", str(users), "--spawn-rate", str(spawn_rate), "--host", url]
        command += ["--run-time", limit, "--only-summary", "--stop-timeout", "60"]
        subprocess.run(command, env=env, cwd=ROOT, check=False)  # noqa: S603 - our interpreter
        if not report.exists():
            raise SystemExit("locust wrote no report: see its output above")
        result: dict[str, Any] = json.loads(report.read_text())
        return result


def hash_cpu_s(samples: int = 3) -> float:
    """CPU seconds of one password hash at production cost, as the stack's functions make it."""
    from domain.passwords import PRODUCTION_COST, PasswordHasher

    hasher = PasswordHasher(PRODUCTION_COST)
    times = []
    for _ in range(samples):
        started = time.process_time()
        hasher.hash("a load-test passphrase")
        times.append(time.process_time() - started)
    return statistics.median(times)


def rss_mb(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / MB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="base URL of the API (default: a fresh local)")
    parser.add_argument("--users", type=int, default=50, help="concurrent people (50)")
    parser.add_argument("--spawn-rate", type=float, default=50, help="people started per second")
    parser.add_argument("--requests", type=int, default=1000, help="stop after this many (1000)")
    parser.add_argument("--run-time", default="20m", help="and in any case after this (20m)")
    parser.add_argument("--name", default="load", help="results file: build/bench/NAME.json")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        pid, one_hash = None, None
        url = args.url.rstrip("/")
        if not url:
            local = stack.enter_context(local_stack())
            url, pid, one_hash = local.api_url, local.pid, hash_cpu_s()
        baseline = idle_read_ms(url)
        before = rss_mb(pid) if pid else None
        result = run_locust(url, args.users, args.requests, args.spawn_rate, args.run_time)
        after = rss_mb(pid) if pid else None

    result |= {
        "url": args.url or "userflow local (the emulator on this machine, not AWS)",
        "users": args.users,
        "idle_read_p50_ms": round(baseline, 1),
        "rss_mb_before": None if before is None else round(before, 1),
        "rss_mb_after": None if after is None else round(after, 1),
        "hash_cpu_ms": None if one_hash is None else round(one_hash * 1000, 1),
        "hashing_requests": sum(
            result["by_request"].get(name, {}).get("requests", 0) for name in HASHING
        ),
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
    }
    _print(result)
    save_results(args.name, result)
    return 0


def _print(result: dict[str, Any]) -> None:
    latency = result["latency_ms"]
    print(f"\nload: {result['requests']} requests, {result['users']} concurrent, {result['url']}")
    print(f"  cores {result['cores']}, load average {result['load_average']} at the end")
    print(f"  throughput   {result['throughput_rps']:.1f} requests/s ({result['elapsed_s']} s)")
    print(
        f"  latency      p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms, "
        f"p99 {latency['p99']:.0f} ms (max {result['latency_max_ms']:.0f} ms)"
    )
    print(
        f"  baseline     GET /users/me idle p50 {result['idle_read_p50_ms']} ms; "
        f"p50 under load {latency['p50'] / result['idle_read_p50_ms']:.1f}x"
    )
    statuses = ", ".join(f"{status}: {n}" for status, n in result["statuses"].items())
    print(f"  statuses     {statuses}")
    print(f"  5xx          {result['server_errors']}")
    unexpected = ", ".join(f"{what}: {n}" for what, n in result["unexpected"].items())
    print(f"  unexpected   {unexpected or 'none'}")
    if result["hash_cpu_ms"] is not None:
        demand = result["hashing_requests"] * result["hash_cpu_ms"] / 1000
        print(
            f"  hashing      {result['hashing_requests']} sign-ups and logins x "
            f"{result['hash_cpu_ms']:.0f} ms CPU = {demand:.0f} core-s in {result['elapsed_s']} s: "
            f"{demand / result['elapsed_s']:.2f} of {result['cores']} cores"
        )
    if result["rss_mb_before"] is not None:
        growth = result["rss_mb_after"] - result["rss_mb_before"]
        print(
            f"  memory       userflow local main process RSS {result['rss_mb_before']:.0f} MB "
            f"before, {result['rss_mb_after']:.0f} MB after ({growth:+.0f} MB)"
        )


if __name__ == "__main__":
    sys.exit(main())
