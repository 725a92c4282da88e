"""Smoke test of a deployed stack (or the local one): what CI runs after every deploy.

Subscribes to the stack's bus (a temporary rule and queue, removed again) and first waits until a
canary event demonstrably arrives: a new rule and queue policy take a while to take effect, and
without the wait the test could miss its own event and block production. Then it registers a
throw-away user, logs in, reads the user back, waits for its `UserCreated` event and deletes the
user.

Smoke users are synthetic: their email is at ``SYNTHETIC_EMAIL_DOMAIN``, so their `UserCreated`
and `UserDeleted` events carry ``detail.email_domain == "smoke.userflow.example.com"`` and
subscribers ignore them (docs/events.md, "How to subscribe"). ``example.com`` is reserved (RFC
2606): no real person has such an address. (``.invalid`` would say so better, but registration
refuses special-use domains such as ``.invalid`` and ``.test``.) The mailer sends nothing there.

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
from typing import TYPE_CHECKING, Any

from domain.events import EVENT_SOURCE
from domain.mail import SYNTHETIC_EMAIL_DOMAIN
from userflow.errors import CommandError
from userflow.event_subscription import subscription
from userflow.stack import Stack, add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef


CANARY_SOURCE = "userflow.smoke"
CANARY_DETAIL_TYPE = "SmokeCanary"
# How long one canary is awaited before another is sent (the subscription may not be live yet).
CANARY_RESEND_SECONDS = 5


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


def _received(stack: Stack, queue_url: str, until: float, wanted: Any) -> dict[str, Any] | None:
    """The first event on the queue for which ``wanted(event)`` holds, before ``until``."""
    sqs = stack.client("sqs")
    while time.monotonic() < until:
        wait = max(1, min(10, int(until - time.monotonic())))
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        )
        for message in received.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            event: dict[str, Any] = json.loads(message["Body"])
            if wanted(event):
                return event
    return None


def wait_until_subscribed(stack: Stack, queue_url: str, email: str, timeout: float) -> None:
    """Sends canary events (never `userflow.users` ones) until one arrives through the rule."""
    events = stack.client("events")
    bus = stack.physical_id("UserEventsBus")
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        canary_id = uuid.uuid4().hex
        entry: PutEventsRequestEntryTypeDef = {
            "Source": CANARY_SOURCE,
            "DetailType": CANARY_DETAIL_TYPE,
            "Detail": json.dumps({"canary_id": canary_id, "user": {"email": email}}),
            "EventBusName": bus,
        }
        if events.put_events(Entries=[entry]).get("FailedEntryCount"):
            raise SmokeTestFailure(f"the bus {bus} refused the canary event")
        sent += 1
        until = min(deadline, time.monotonic() + CANARY_RESEND_SECONDS)
        # Any canary of this run proves the subscription delivers, a late one included.
        if _received(stack, queue_url, until, lambda e: e.get("source") == CANARY_SOURCE):
            print(f"ok  subscription delivers (canary {sent})")
            return
    raise SmokeTestFailure(f"no canary event arrived within {timeout:.0f} s ({sent} sent)")


def wait_for_user_created(stack: Stack, queue_url: str, user_id: str, timeout: float) -> None:
    event = _received(
        stack,
        queue_url,
        time.monotonic() + timeout,
        lambda e: (
            e.get("detail-type") == "UserCreated"
            and e.get("detail", {}).get("user", {}).get("id") == user_id
        ),
    )
    if event is None:
        raise SmokeTestFailure(f"no UserCreated event for {user_id} within {timeout:.0f} s")
    print(f"ok  UserCreated event {event['detail'].get('event_id')} received", end="")
    print(f" (email_domain {event['detail'].get('email_domain')})")


def run(stack: Stack, event_timeout: float) -> None:
    api = api_url_of(stack)
    email = f"smoke-{uuid.uuid4().hex[:12]}@{SYNTHETIC_EMAIL_DOMAIN}"
    password = secrets.token_urlsafe(24)
    print(f"smoke test of {stack.name} at {api}")
    # This run's canaries and this run's user only: no real user's event reaches the queue.
    pattern = {
        "source": [EVENT_SOURCE, CANARY_SOURCE],
        "detail-type": ["UserCreated", CANARY_DETAIL_TYPE],
        "detail": {"user": {"email": [email]}},
    }
    with subscription(stack, pattern, purpose="smoke") as queue_url:
        wait_until_subscribed(stack, queue_url, email, event_timeout)
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
        "--event-timeout",
        type=float,
        default=90,
        help="seconds to wait for the subscription to deliver, and then for UserCreated",
    )
    args = parser.parse_args(argv)
    try:
        run(resolve_stack(args), args.event_timeout)
    except CommandError as error:  # no stack to test
        print(f"FAIL {error}", file=sys.stderr)
        return error.exit_code
    except SmokeTestFailure as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
