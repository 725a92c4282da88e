"""A `userflow local` for benchmarks: started on free ports with its own state directory, a
signed-in user per call of ``new_user``, and each function's environment as Lambda would give it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samlocal.functions import LOCAL_SESSION_TOKEN, Invoker, ParametersExtension, ttls_from_template
from samlocal.template import Template, load_template
from userflow.local_stack import ONE_MACHINE_TRAFFIC
from userflow.local_state import wait_for_local_state
from userflow.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "build" / "bench"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BenchUser:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


@dataclass
class BenchStack:
    api_url: str
    stack: Stack
    template: Template
    invoker: Invoker
    pid: int = 0
    """The `userflow local` process (its main process, which serves HTTP and moto)."""

    def request(
        self, method: str, path: str, body: Any = None, access_token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        request = urllib.request.Request(  # noqa: S310 - the local stack's http URL
            self.api_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def new_user(self) -> BenchUser:
        email, password = f"bench-{uuid.uuid4().hex[:12]}@example.com", "a benchmark passphrase"
        status, created = self.request(
            "POST", "/users", {"email": email, "password": password, "name": "Bench"}
        )
        assert status == 201, created
        status, tokens = self.request("POST", "/auth/login", {"email": email, "password": password})
        assert status == 200, tokens
        return BenchUser(
            created["id"], email, password, tokens["access_token"], tokens["refresh_token"]
        )

    def lambda_environment(self, logical_id: str) -> dict[str, str]:
        """What Lambda gives the function (the template's variables, tracing as the template
        sets it), pointed at the local endpoint and parameters extension."""
        function = self.invoker.function(logical_id)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "USERFLOW_"))},
            **self.invoker.runtime_environment(function),
        }
        for name in ("POWERTOOLS_TRACE_DISABLED",):
            if name in function.environment:
                env[name] = function.environment[name]
        return env


@contextmanager
def local_stack(*arguments: str) -> Iterator[BenchStack]:
    """`userflow local --port 0` at production hash cost, stopped afterwards."""
    with tempfile.TemporaryDirectory() as state_dir:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "USERFLOW_"))},
            "USERFLOW_STATE_DIR": state_dir,
        }
        # Every request comes from 127.0.0.1: the per-source and mail limits are raised.
        limits = ("--parameter-overrides", *ONE_MACHINE_TRAFFIC)
        process = subprocess.Popen(  # noqa: S603 - our interpreter and CLI
            [sys.executable, "-m", "userflow.cli", "local", "--port", "0", *limits, *arguments],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        extension: ParametersExtension | None = None
        try:
            state = wait_for_local_state(process, Path(state_dir) / "local.json", START_TIMEOUT_S)
            stack = Stack(
                name=state["stack_name"],
                region=state["region"],
                endpoint_url=state["endpoint_url"],
                resources=state["resources"],
                api_url=state["api_url"],
                local=True,
                parameters=state.get("parameters", {}),  # functions invoked here: same limits
            )
            template = load_template(ROOT / "template.yaml")
            extension = ParametersExtension(
                stack.client,
                session_token=LOCAL_SESSION_TOKEN,
                ttl_seconds=ttls_from_template(template),
            )
            extension.start()
            invoker = Invoker(template, stack, local_values=extension.function_environment())
            yield BenchStack(state["api_url"], stack, template, invoker, pid=process.pid)
        finally:
            if extension is not None:
                extension.shutdown()
                extension.server_close()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def save_results(name: str, results: dict[str, Any]) -> Path:
    """Writes a benchmark's figures where ``scripts.generate_cost_model`` reads them."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2))
    return path
