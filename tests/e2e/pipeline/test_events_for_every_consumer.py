"""Issue 24 on a running `userflow local`: security events exactly for their changes, with the
actor; signed webhooks (checked with the standardwebhooks library) retried after 500s on the
shortened schedule and dead-lettered after the last attempt; SSRF targets refused; a late
subscriber rebuilding state from an archive replay and live events by the fold rule."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook
from userflow_events import Fold, parse_event

from tests.support.local_stack import LocalStack, start_local_stack, verify_email
from tests.support.subscriber import PASSWORD, Subscriber, register_and_login
from tests.support.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.e2e


def _mine(subscriber: Subscriber, user_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e["detail-type"], e["detail"])
        for e in subscriber.received
        if e["detail"]["user"]["id"] == user_id and "replay-name" not in e
    ]


def test_given_security_changes_then_each_publishes_exactly_its_events_with_the_actor(
    local_stack: LocalStack,
) -> None:
    subscriber = Subscriber(local_stack)
    user_id, bearer = register_and_login(local_stack, "Sec")
    changed = local_stack.request(
        "PATCH",
        "/users/me",
        json_body={"password": "a brand new horse staple", "current_password": PASSWORD},
        headers=bearer,
    )
    assert changed.status == 200, changed.body
    me = local_stack.request("GET", "/users/me", headers=bearer)
    assert me.status == 401  # the change ended every session

    subscriber.wait_for(lambda _: len(_mine(subscriber, user_id)) >= 3)
    subscriber.wait_for(lambda _: False, timeout=2)  # nothing more comes

    mine = _mine(subscriber, user_id)
    assert [kind for kind, _ in mine] == ["UserCreated", "PasswordChanged", "SessionsRevoked"]
    assert mine[1][1]["reason"] == "change"
    assert (mine[2][1]["scope"], mine[2][1]["reason"]) == ("all", "password_change")
    assert all(detail["actor"] == {"type": "user", "id": user_id} for _, detail in mine)
    assert "hash" not in json.dumps(mine).lower()


def test_given_a_lock_an_unlock_a_verification_and_a_grant_then_their_events_name_who(
    local_stack: LocalStack,
) -> None:
    subscriber = Subscriber(local_stack)
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    created = local_stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "Locked"}
    )
    assert created.status == 201, created.body
    user_id = created.json()["id"]
    wrong = {"email": email, "password": "not the password"}
    statuses = [
        local_stack.request("POST", "/auth/login", json_body=wrong).status for _ in range(6)
    ]
    assert statuses[4:] == [429, 429]
    unlocked = local_stack.run("userflow.cli", "admin", "unlock", email)
    assert unlocked.returncode == 0, unlocked.stderr
    verify_email(local_stack, email)
    granted = local_stack.run("userflow.cli", "admin", "grant", email)
    assert granted.returncode == 0, granted.stderr

    subscriber.wait_for(lambda _: len(_mine(subscriber, user_id)) >= 7)
    subscriber.wait_for(lambda _: False, timeout=2)  # nothing more comes

    kinds = [(kind, detail["actor"]["type"]) for kind, detail in _mine(subscriber, user_id)]
    assert kinds == [
        ("UserCreated", "user"),
        ("AccountLocked", "system"),
        ("AccountUnlocked", "operator"),
        ("UserUpdated", "user"),
        ("EmailVerified", "user"),
        ("UserUpdated", "operator"),
        ("RoleGranted", "operator"),
    ]


def _add(stack: LocalStack, url: str, *extra: str) -> tuple[str, str]:
    added = stack.run("userflow.cli", "webhooks", "add", url, *extra)
    assert added.returncode == 0, added.stdout + added.stderr
    endpoint = re.search(r"endpoint (\w+)", added.stdout)
    secret = re.search(r"(whsec_\S+)", added.stdout)
    assert endpoint is not None
    assert secret is not None
    return endpoint.group(1), secret.group(1)


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: a webhook takes every UserCreated, so on the shared stack a late event
    of another test's user could take the answer scripted for this test's user."""
    with start_local_stack(tmp_path_factory.mktemp("webhooks")) as stack:
        yield stack


def test_given_a_webhook_when_it_answers_500s_then_signed_retries_on_schedule_then_dead_letter(
    quiet_stack: LocalStack,
) -> None:
    local_stack = quiet_stack
    with webhook_receiver([500]) as recovering, webhook_receiver([500, 500, 500]) as broken:
        _, recovering_secret = _add(local_stack, recovering.url, "--events", "UserCreated")
        broken_id, _ = _add(local_stack, broken.url, "--events", "UserCreated")
        user_id, _ = register_and_login(local_stack, "Hooked")

        retried = recovering.wait_for(2)
        failed = broken.wait_for(3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "dead" not in _listed(local_stack, broken_id):
            time.sleep(0.5)

        for attempt in retried:
            body = Webhook(recovering_secret).verify(attempt.body, attempt.headers)
            assert body["detail"]["user"]["id"] == user_id
        assert len(retried) == 2
        assert retried[1].at - retried[0].at >= 0.9  # the first retry waits its 1 s
        assert len({a.headers["webhook-id"] for a in retried}) == 1
        assert len(failed) == 3
        assert "dead" in _listed(local_stack, broken_id)


def _listed(stack: LocalStack, endpoint_id: str) -> str:
    """The endpoint's row of `webhooks list --json`, plus "dead" once a delivery of it is in
    the dead-letter queue."""
    listed = stack.run("userflow.cli", "webhooks", "list", "--json")
    row = next(line for line in listed.stdout.splitlines() if endpoint_id in line)
    sqs: Any = boto3.client(
        "sqs",
        endpoint_url=stack.endpoint_url,
        region_name=stack.state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    url = stack.state["resources"]["WebhookDeadLetterQueue"]["physical_id"]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])
    dead = any(
        m.get("MessageAttributes", {}).get("endpoint_id", {}).get("StringValue") == endpoint_id
        for m in got
    )
    return row + (" dead" if dead else "")


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://[fd00::1]/"]
)
def test_given_an_ssrf_target_when_added_then_refused(local_stack: LocalStack, url: str) -> None:
    added = local_stack.run("userflow.cli", "webhooks", "add", url)

    assert added.returncode == 2
    assert "private address" in added.stderr


def test_given_a_late_subscriber_when_it_replays_the_archive_and_reads_live_then_it_has_the_state(
    local_stack: LocalStack,
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    kept, kept_bearer = register_and_login(local_stack, "Kept")
    gone, gone_bearer = register_and_login(local_stack, "Gone")
    renamed = local_stack.request(
        "PATCH", "/users/me", json_body={"name": "Renamed"}, headers=kept_bearer
    )
    assert renamed.status == 200
    deleted = local_stack.request(
        "DELETE", "/users/me", json_body={"current_password": PASSWORD}, headers=gone_bearer
    )
    assert deleted.status == 204
    time.sleep(1)  # archived

    late = Subscriber(local_stack)  # starts now: saw none of that
    rule = late.url.rsplit("/", 1)[-1]
    replayed = local_stack.run(
        "userflow.cli", "events", "replay", "--since", start.isoformat(), "--rule", rule
    )
    live = local_stack.request(
        "PATCH", "/users/me", json_body={"name": "Live"}, headers=kept_bearer
    )
    assert live.status == 200
    mine = {kept, gone}

    def folded(got: list[dict[str, Any]]) -> Fold:
        fold = Fold()
        fold.apply_all(parse_event(e) for e in got if e["detail"]["user"]["id"] in mine)
        return fold

    def converged(got: list[dict[str, Any]]) -> bool:
        users = folded(got).users
        return set(users) & mine == {kept} and users[kept].name == "Live"

    # Waits for the state, not for a count: the replayed and the live events arrive in any order.
    late.wait_for(converged, timeout=30)

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    fold = folded(late.received)
    assert set(fold.users) & mine == {kept}
    assert fold.users[kept].name == "Live"
    assert any("replay-name" in e for e in late.received)
