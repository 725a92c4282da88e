"""Smoke test of a deployed stack (or the local one): what CI runs after every deploy.

Registers a throw-away user, logs in, reads the user back, waits for its `UserCreated` event on
the stack's bus (through a temporary queue and rule that it removes again), then deletes the user.

    python -m scripts.smoke_test --stack-name userflow-staging --region eu-west-1
    python -m scripts.smoke_test                  # the running `userflow local` stack
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from domain.events import EVENT_SOURCE
from userflow.commands.events import subscription
from userflow.stack import Stack, add_stack_arguments, resolve_stack


class SmokeTestFailure(Exception):
    """A step did not behave as the contract says."""


@dataclass
class Reply:
    status: int
    body: Any


def call(api_url: str, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
    if not api_url.startswith(("https://", "http://")):
        raise SmokeTestFailure(f"not an HTTP API URL: {api_url}")
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        api_url.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        # Only http(s) reaches here (checked above), so urlopen cannot open a local file.
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return Reply(status, json.loads(raw) if raw else None)


def expect(reply: Reply, status: int, step: str) -> Any:
    if reply.status != status:
        raise SmokeTestFailure(f"{step}: expected {status}, got {reply.status} {reply.body}")
    print(f"ok  {step} -> {status}")
    return reply.body


def api_url_of(stack: Stack) -> str:
    if stack.api_url:
        return stack.api_url
    described = stack.client("cloudformation").describe_stacks(StackName=stack.name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}
    return str(outputs["ApiUrl"])


def wait_for_user_created(stack: Stack, queue_url: str, user_id: str, timeout: float) -> None:
    sqs = stack.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait = max(1, min(10, int(deadline - time.monotonic())))
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        )
        for message in received.get("Messages", []):
            event = json.loads(message["Body"])
            if event.get("detail", {}).get("user", {}).get("id") == user_id:
                print(f"ok  UserCreated event {event['detail'].get('event_id')} received")
                return
    raise SmokeTestFailure(f"no UserCreated event for {user_id} within {timeout:.0f} s")


def run(stack: Stack, event_timeout: float) -> None:
    api = api_url_of(stack)
    email = f"smoke-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(24)
    print(f"smoke test of {stack.name} at {api}")
    user_created = {
        "source": [EVENT_SOURCE],
        "detail-type": ["UserCreated"],
        "detail": {"user": {"email": [email]}},
    }
    with subscription(stack, user_created, purpose="smoke") as queue_url:
        registration = {"email": email, "password": password, "name": "Smoke Test"}
        user = expect(call(api, "POST", "/users", registration), 201, "POST /users")
        user_id = user["id"]
        try:
            tokens = expect(
                call(api, "POST", "/auth/login", {"email": email, "password": password}),
                200,
                "POST /auth/login",
            )
            token = tokens["access_token"]
            me = expect(call(api, "GET", "/users/me", token=token), 200, "GET /users/me")
            if me["id"] != user_id or "password" in json.dumps(me):
                raise SmokeTestFailure(f"GET /users/me returned another or unsafe body: {me}")
            expect(call(api, "GET", f"/users/{user_id}", token=token), 200, "GET /users/{id}")
            wait_for_user_created(stack, queue_url, user_id, event_timeout)
            expect(call(api, "DELETE", f"/users/{user_id}", token=token), 204, "DELETE /users/{id}")
        except Exception:
            print(f"!!  the smoke user {user_id} ({email}) may be left behind", file=sys.stderr)
            raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_stack_arguments(parser)
    parser.add_argument(
        "--event-timeout", type=float, default=90, help="seconds to wait for UserCreated"
    )
    args = parser.parse_args(argv)
    try:
        run(resolve_stack(args), args.event_timeout)
    except SmokeTestFailure as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
