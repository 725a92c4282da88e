"""The local stream carries exactly the committed changes: refused writes (409, 412, a taken email)
publish nothing, and every successful change after them is still published. On the worker's
shared stack: an own subscriber, own addresses, and only this test's users counted."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.local_stack import LocalStack
from tests.support.subscriber import Subscriber

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
QUIET_PERIOD_S = 2.0
"""How long nothing more may arrive for this test's users before their events are counted."""
LIFECYCLE = {"UserCreated", "UserUpdated", "UserDeleted"}


def _changes(
    subscriber: Subscriber, users: Callable[[], set[str]], until: Counter[tuple[str, str]]
) -> Counter[tuple[str, str]]:
    """(user id, detail-type) of every event received for ``users``, once ``until`` arrived and
    then nothing more came for them for a quiet period."""

    def counted() -> Counter[tuple[str, str]]:
        return Counter(
            (e["detail"]["user"]["id"], e["detail-type"])
            for e in subscriber.received
            if e["detail"]["user"]["id"] in users()
        )

    deadline = time.monotonic() + 30
    seen, quiet_since = counted(), time.monotonic()
    while time.monotonic() < deadline:
        subscriber.wait_for(lambda _: False, timeout=0.5)
        now = counted()
        if now != seen:
            seen, quiet_since = now, time.monotonic()
        if until <= now and time.monotonic() - quiet_since > QUIET_PERIOD_S:
            break
    return seen


def _register(stack: LocalStack, email: str) -> Any:
    return stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "N"}
    )


def _bearer(stack: LocalStack, email: str) -> dict[str, str]:
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_given_refused_writes_between_successful_ones_then_only_successful_changes_are_published(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    stack = local_stack
    address_a, address_b, address_c = unique_email(), unique_email(), unique_email()
    subscriber = Subscriber(stack)
    mine: set[str] = set()
    # The scenario: register a, register a again (409), register b.
    a = _register(stack, address_a)
    assert a.status == 201, a.body
    assert _register(stack, address_a).status == 409
    b = _register(stack, address_b)
    assert b.status == 201, b.body
    a_id, b_id = a.json()["id"], b.json()["id"]
    mine |= {a_id, b_id}
    expected = Counter({(a_id, "UserCreated"): 1, (b_id, "UserCreated"): 1})
    assert _changes(subscriber, lambda: mine, until=expected) == expected

    # Every later change, with refusals in between.
    as_a = _bearer(stack, address_a)
    stale = {**as_a, "If-Match": '"7"'}
    path_a = f"/users/{a_id}"
    assert stack.request("PATCH", path_a, json_body={"name": "X"}, headers=stale).status == 412
    taken = {"email": address_b, "current_password": PASSWORD}
    assert stack.request("PATCH", path_a, json_body=taken, headers=as_a).status == 409
    assert _register(stack, address_b).status == 409
    renamed = stack.request("PATCH", path_a, json_body={"name": "Ann"}, headers=as_a)
    assert renamed.status == 200, renamed.body
    moved = stack.request(
        "PATCH",
        path_a,
        json_body={"email": address_c, "current_password": PASSWORD},
        headers=as_a,
    )
    assert moved.status == 200, moved.body
    assert stack.request("PATCH", path_a, json_body=taken, headers=as_a).status == 409
    c = _register(stack, address_a)  # a's old address is free again
    assert c.status == 201, c.body
    mine.add(c.json()["id"])
    as_b = _bearer(stack, address_b)
    assert stack.request("DELETE", f"/users/{b_id}", headers=as_b).status == 204
    assert stack.request("DELETE", f"/users/{b_id}", headers=as_b).status in (401, 404)

    expected = Counter(
        {
            (a_id, "UserCreated"): 1,
            (b_id, "UserCreated"): 1,
            (a_id, "UserUpdated"): 2,
            (a_id, "EmailChanged"): 1,  # the security event of the address change
            (c.json()["id"], "UserCreated"): 1,
            (b_id, "UserDeleted"): 1,
        }
    )
    assert _changes(subscriber, lambda: mine, until=expected) == expected
    versions = [
        e["detail"]["user"]["version"]
        for e in subscriber.received
        if e["detail"]["user"]["id"] == a_id and e["detail-type"] in LIFECYCLE
    ]
    assert versions == [1, 2, 3]
