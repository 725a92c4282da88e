"""The Userflow load scenario (Locust): people signing up, signing in and using their account.

Each simulated person registers and logs in, then, back to back (``LOAD_WAIT_S`` between tasks,
0 by default), in this mix by weight:

| weight | task | expected |
| --- | --- | --- |
| 8 | `GET /users/me` | 200 |
| 4 | `GET /users/{id}` | 200 |
| 3 | `PATCH /users/{id}` (new name, `If-Match` of the last read) | 200, or 412 when raced |
| 3 | `POST /auth/refresh` (rotates the pair) | 200 |
| 2 | `POST /auth/login` | 200 |
| 1 | `GET /.well-known/jwks.json` | 200 |
| 1 | `POST /users` with an email already taken | 409 |
| 1 | `DELETE /users/{id}`, then registers and logs in again as someone new | 204 |

Any other status is a failure, counted by status. Sign-up and login hash a password (the costly
routes); the rest read and write the table. ``LOAD_REQUESTS`` stops the run after that many
requests; ``LOAD_REPORT`` is where the summary (throughput, percentiles, statuses) is written.
Run through ``benchmarks/load.py`` (``make load``), or directly:
``locust -f benchmarks/locustfile.py --headless -u 50 -r 50 --host URL``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

PASSWORD = "a load-test passphrase, never used elsewhere"  # noqa: S105 - throwaway local users
EXPECTED: dict[str, set[int]] = {
    "POST /users": {201},
    "POST /users (email taken)": {409},
    "POST /auth/login": {200},
    "POST /auth/refresh": {200},
    "GET /users/me": {200},
    "GET /users/{id}": {200},
    "PATCH /users/{id}": {200, 412},
    "DELETE /users/{id}": {204},
    "GET /.well-known/jwks.json": {200},
}


class Tally:
    """Every request's status and time, to report statuses and the run's wall-clock throughput."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.started: float | None = None
        self.ended = 0.0
        self.limit = int(os.environ.get("LOAD_REQUESTS", "0"))
        self.stopping = False

    def record(self, environment: Environment, name: str, status: int) -> None:
        now = time.monotonic()
        self.started = self.started or now
        self.ended = now
        self.statuses[status] += 1
        if status not in EXPECTED.get(name, set()):
            self.unexpected[f"{status} {name}"] += 1
        if self.limit and not self.stopping and self.total >= self.limit:
            self.stopping = True
            assert environment.runner is not None
            gevent.spawn(environment.runner.quit)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def report(self, environment: Environment) -> dict[str, Any]:
        stats = environment.stats.total
        elapsed = max(self.ended - (self.started or self.ended), 1e-9)
        return {
            "requests": self.total,
            "elapsed_s": round(elapsed, 2),
            "throughput_rps": round(self.total / elapsed, 2),
            "latency_ms": {
                f"p{int(q * 100)}": stats.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)
            },
            "latency_max_ms": round(stats.max_response_time or 0, 1),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "server_errors": sum(n for status, n in self.statuses.items() if status >= 500),
            "unexpected": dict(self.unexpected.most_common()),
            "by_request": {
                name: {
                    "requests": entry.num_requests,
                    "p50_ms": entry.get_response_time_percentile(0.5),
                    "p99_ms": entry.get_response_time_percentile(0.99),
                }
                for (name, _), entry in sorted(environment.stats.entries.items())
            },
        }


TALLY = Tally()


def _write_report(environment: Environment, **_: Any) -> None:
    target = os.environ.get("LOAD_REPORT")
    if target:
        Path(target).write_text(json.dumps(TALLY.report(environment), indent=2))


events.quitting.add_listener(_write_report)  # type: ignore[no-untyped-call]


def _wait() -> Any:
    seconds = float(os.environ.get("LOAD_WAIT_S", "0"))
    return between(seconds, seconds)


class Person(HttpUser):
    """Someone with an account: signs up on start, then uses it."""

    wait_time = _wait()

    user_id = ""
    email = ""
    access_token = ""
    refresh_token = ""
    etag = "*"

    def _call(self, method: str, path: str, name: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        if method == "PATCH":
            headers["If-Match"] = self.etag
        with self.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as response:
            status = response.status_code
            TALLY.record(self.environment, name, status)
            if status in EXPECTED[name]:
                response.success()
            else:
                response.failure(f"{status}")
            try:
                return status, response.json() if response.content else None, response.headers
            except ValueError:
                return status, None, response.headers

    def on_start(self) -> None:
        self._sign_up()

    def _sign_up(self) -> None:
        self.access_token = ""
        self.email = f"load-{uuid.uuid4().hex[:16]}@example.com"
        status, user, _ = self._call(
            "POST",
            "/users",
            "POST /users",
            {"email": self.email, "password": PASSWORD, "name": "L"},
        )
        if status == 201:
            self.user_id = user["id"]
            self._log_in()

    def _log_in(self) -> None:
        status, tokens, _ = self._call(
            "POST", "/auth/login", "POST /auth/login", {"email": self.email, "password": PASSWORD}
        )
        if status == 200:
            self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]

    def _signed_in(self) -> bool:
        if not self.access_token:
            self._sign_up()
        return bool(self.access_token)

    @task(8)
    def read_me(self) -> None:
        if self._signed_in():
            status, _, headers = self._call("GET", "/users/me", "GET /users/me")
            if status == 200:
                self.etag = headers.get("ETag", "*")

    @task(4)
    def read_by_id(self) -> None:
        if self._signed_in():
            self._call("GET", f"/users/{self.user_id}", "GET /users/{id}")

    @task(3)
    def update_name(self) -> None:
        if self._signed_in():
            body = {"name": f"Load {uuid.uuid4().hex[:6]}"}
            status, _, headers = self._call(
                "PATCH", f"/users/{self.user_id}", "PATCH /users/{id}", body
            )
            self.etag = headers.get("ETag", "*") if status == 200 else "*"

    @task(3)
    def refresh(self) -> None:
        if self._signed_in():
            status, tokens, _ = self._call(
                "POST",
                "/auth/refresh",
                "POST /auth/refresh",
                {"refresh_token": self.refresh_token},
            )
            if status == 200:
                self.access_token = tokens["access_token"]
                self.refresh_token = tokens["refresh_token"]

    @task(2)
    def log_in_again(self) -> None:
        if self._signed_in():
            self._log_in()

    @task(1)
    def keys(self) -> None:
        self._call("GET", "/.well-known/jwks.json", "GET /.well-known/jwks.json")

    @task(1)
    def sign_up_with_a_taken_email(self) -> None:
        if self._signed_in():
            body = {"email": self.email, "password": PASSWORD, "name": "Again"}
            self._call("POST", "/users", "POST /users (email taken)", body)

    @task(1)
    def delete_account(self) -> None:
        if self._signed_in():
            status, _, _ = self._call("DELETE", f"/users/{self.user_id}", "DELETE /users/{id}")
            if status == 204:
                self._sign_up()
