"""`userflow local` under load: a cheap route while logins hash, and parallel registrations.

Starts `userflow local` (production hash cost, fresh state directory, free ports) and measures,
each against a baseline from the same run:

1. the median latency of `GET /.well-known/jwks.json` idle, then while CLIENTS clients log in
   back to back (each login hashes a password): the ratio should stay a small multiple;
2. the time of one registration (one hash), then of N registrations sent at once, against
   N x one / cores (what perfect parallelism would give). On a shared machine the scheduler may
   give this session less than all its cores (Linux autogroups share CPU per session), so the
   cores this run really gets are measured too — the same scrypt hash once, then on every core
   at once — and the ideal is also given for those.

Run: `python -m benchmarks.local_concurrency` (BENCH_CLIENTS, BENCH_REGISTRATIONS to change N).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from domain.passwords import COST_ENV, RENAMED_COST_ENV, TEST_COST_ENV

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "6"))
REGISTRATIONS = int(os.environ.get("BENCH_REGISTRATIONS", "20"))
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway local user


def _call(api: str, method: str, path: str, body: Any = None) -> tuple[int, float]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        api + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


def _register(api: str) -> float:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    status, elapsed = _call(
        api, "POST", "/users", {"email": email, "password": PASSWORD, "name": "B"}
    )
    assert status == 201, status
    return elapsed


def _jwks_median(api: str, samples: int = 30) -> float:
    return statistics.median(_call(api, "GET", "/.well-known/jwks.json")[1] for _ in range(samples))


def _hash(_: int) -> float:
    """One scrypt hash at the production cost (N=2^17, r=8, p=1), timed."""
    started = time.perf_counter()
    hashlib.scrypt(b"password", salt=b"0" * 16, n=2**17, r=8, p=1, maxmem=256 * 1024 * 1024)
    return time.perf_counter() - started


def effective_cores(cores: int) -> float:
    """How many cores' worth of hashing this session gets: ``cores`` hashes in parallel
    against one alone."""
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_hash, range(cores)))  # workers started
        alone = statistics.median(next(iter(pool.map(_hash, range(1)))) for _ in range(2))
        started = time.perf_counter()
        list(pool.map(_hash, range(cores)))
        together = time.perf_counter() - started
    return cores * alone / together


def _start(state_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    cost_settings = (COST_ENV, RENAMED_COST_ENV, TEST_COST_ENV)  # the production cost, always
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in cost_settings
    }
    env |= {"USERFLOW_STATE_DIR": str(state_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "userflow.cli", "local", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    state = state_dir / "local.json"
    while time.monotonic() < deadline:
        if state.exists():
            recorded = json.loads(state.read_text() or "{}")
            if recorded.get("pid") == process.pid:
                return process, str(recorded["api_url"])
        time.sleep(0.1)
    process.kill()
    raise SystemExit("userflow local did not start")


def main() -> int:
    cores = os.cpu_count() or 1
    usable = effective_cores(cores)
    with tempfile.TemporaryDirectory() as state_dir:
        process, api = _start(Path(state_dir))
        try:
            return _measure(api, cores, usable)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _measure(api: str, cores: int, usable: float) -> int:
    emails = []
    for _ in range(CLIENTS):  # users to log in, and every function warm
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        _call(api, "POST", "/users", {"email": email, "password": PASSWORD, "name": "B"})
        emails.append(email)
    _call(api, "POST", "/auth/login", {"email": emails[0], "password": PASSWORD})
    idle = _jwks_median(api)

    stop = threading.Event()
    logins = {"n": 0}

    def log_in(email: str) -> None:
        while not stop.is_set():
            _call(api, "POST", "/auth/login", {"email": email, "password": PASSWORD})
            logins["n"] += 1

    with ThreadPoolExecutor(CLIENTS) as clients:
        for email in emails:
            clients.submit(log_in, email)
        time.sleep(2)  # every client is hashing
        busy = _jwks_median(api)
        stop.set()

    one = statistics.median(_register(api) for _ in range(3))
    started = time.perf_counter()
    with ThreadPoolExecutor(REGISTRATIONS) as clients:
        list(clients.map(lambda _: _register(api), range(REGISTRATIONS)))
    parallel = time.perf_counter() - started
    ideal = REGISTRATIONS * one / cores

    load = os.getloadavg()[0]
    print(f"cores: {cores}; load average {load:.1f}; logins during the measurement: {logins['n']}")
    print(f"JWKS median idle:                 {idle * 1000:8.1f} ms")
    print(
        f"JWKS median with {CLIENTS} clients logging in: {busy * 1000:8.1f} ms"
        f"  ({busy / idle:.1f}x idle)"
    )
    print(f"one registration:                 {one * 1000:8.1f} ms")
    print(
        f"{REGISTRATIONS} parallel registrations:       {parallel:8.2f} s"
        f"  (N x one / cores = {ideal:.2f} s; ratio {parallel / ideal:.2f})"
    )
    fair = REGISTRATIONS * one / usable
    print(
        f"cores this session got for hashing: {usable:.2f}"
        f"  (N x one / those = {fair:.2f} s; ratio {parallel / fair:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
