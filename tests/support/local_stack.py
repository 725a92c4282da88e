"""A running `userflow local` as the end-to-end tests drive it: started as a subprocess on free
ports, requests over real HTTP, the operator CLI run against it. The shared stacks (fixtures) are
in tests/e2e/conftest.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from userflow.local_stack import ONE_MACHINE_TRAFFIC
from userflow.local_state import wait_for_local_state

REPO = Path(__file__).resolve().parents[2]


START_TIMEOUT_S = 30.0


class Headers(Mapping[str, str]):
    """Response headers, looked up by name in any case as HTTP means them (the local server
    sends them title-cased, API Gateway lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = {name.lower(): value for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class HttpResult:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LocalStack:
    """A running `userflow local`: its API, its AWS endpoint and its recorded state."""

    api_url: str
    endpoint_url: str
    state: dict[str, Any]
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None

    def output(self) -> str:
        """What `userflow local` printed so far (stdout and stderr)."""
        assert self.log_path is not None
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        """One HTTP request; error statuses are returned, not raised."""
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(
            self.api_url + path, data=body, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return HttpResult(
                    response.status, Headers(response.headers.items()), response.read()
                )
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, Headers(error.headers.items()), error.read())

    def run(
        self, module: str, *arguments: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``python -m module ...`` as an operator would, against this stack."""
        return subprocess.run(
            [sys.executable, "-m", module, *arguments],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


# Every test drives the stack from 127.0.0.1, and most register, log in and mail far more than
# one person would: the per-source and mail limits are raised for them. Tests of those limits
# start a stack with the defaults, or set their own after these.
# Webhook retries on a shortened schedule (1 s, 1 s: three attempts), as "Done when" asks.
TEST_TRAFFIC_LIMITS = ("--parameter-overrides", *ONE_MACHINE_TRAFFIC, "WebhookRetrySchedule=1,1")


@contextmanager
def start_local_stack(
    tmp_dir: Path, *arguments: str, test_limits: bool = True
) -> Iterator[LocalStack]:
    """Starts `userflow local --port 0 ...`, waits until it answers, stops it afterwards.
    ``test_limits``: the repository's template with TEST_TRAFFIC_LIMITS (overrides in
    ``arguments`` win)."""
    if test_limits and "--template" not in arguments:
        arguments = (*TEST_TRAFFIC_LIMITS, *arguments)
    state_dir = tmp_dir / "state"
    # A laptop's environment: no AWS credentials or region; the stack and its CLI need none.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "USERFLOW_STATE_DIR": str(state_dir),
        "USERFLOW_ARGON2_MEMORY_LOG2_KIB": "10",
        "USERFLOW_ALLOW_TEST_HASH_COST": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_dir / "userflow-local.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "userflow.cli", "local", "--port", "0", *arguments],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            state = wait_for_local_state(
                process, state_dir / "local.json", START_TIMEOUT_S, poll_s=0.05
            )
            yield LocalStack(
                api_url=state["api_url"],
                endpoint_url=state["endpoint_url"],
                state=state,
                state_dir=state_dir,
                env=env,
                log_path=log_path,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def verify_email(stack: LocalStack, email: str) -> None:
    """Opens the verification link mailed at registration, as its owner would."""
    done = stack.run(
        "userflow.cli", "mail", "tail", "--to", email, "--from-start", "--count", "1",
        "--timeout", "20", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    mail = json.loads(done.stdout.splitlines()[0])
    token = mail["text"].split("token=", 1)[1].split()[0]
    verified = stack.request("POST", "/auth/verify-email", json_body={"token": token})
    assert verified.status == 204, verified.body
