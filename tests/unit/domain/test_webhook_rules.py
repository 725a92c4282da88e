"""Webhook rules without the network: which URLs and addresses may be endpoints, the retry
schedule (long waits in hops of at most 15 minutes), dead letters and disabling."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput
from domain.webhook_deliveries import AttemptResult, Delivery, WebhookDispatcher
from domain.webhooks import (
    Endpoint,
    EndpointStatus,
    RetryPolicy,
    UrlPolicy,
    event_types,
    parse_schedule,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


NON_PUBLIC = (
    "10.0.0.1",
    "172.16.5.4",
    "192.168.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - a refused target, bound to nothing
    "::1",
    "fe80::1",
    "fd12::1",
    "::ffff:10.0.0.1",
    "224.0.0.1",
    "fe80::1%eth0",
)


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_given_a_non_public_address_when_deployed_then_refused(address: str) -> None:
    with pytest.raises(InvalidInput, match="private address"):
        UrlPolicy().check_address(address)


def test_given_the_local_stack_then_loopback_only_is_allowed_besides_public_addresses() -> None:
    UrlPolicy(local=True).check_address("127.0.0.1")
    UrlPolicy(local=True).check_address("93.184.216.34")
    with pytest.raises(InvalidInput):
        UrlPolicy(local=True).check_address("10.0.0.1")


@pytest.mark.parametrize(
    ("url", "local"),
    [("http://example.com/", False), ("https://u:p@example.com/", False),
     ("https:///path", False), ("https://example.com/#x", False), ("javascript:alert(1)", True),
     ("https://exa mple.com/", False), ("https://example.com:99999/", False),
     ("https://ex\u00e4mple.com/", False), ("", False)],
)  # fmt: skip
def test_given_a_url_that_cannot_be_an_endpoint_then_refused(url: str, local: bool) -> None:
    with pytest.raises(InvalidInput):
        UrlPolicy(local=local).check_url(url)


def test_given_event_type_lists_then_known_ones_only() -> None:
    assert event_types(None) == frozenset()
    assert event_types(["PasswordChanged"]) == {"PasswordChanged"}
    with pytest.raises(InvalidInput, match="Nope"):
        event_types(["PasswordChanged", "Nope"])


@pytest.mark.parametrize("text", ["", "0", "5,,6", "a", "-5", "5, x"])
def test_given_a_bad_schedule_then_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is one
        parse_schedule(text)


@dataclass
class _Endpoints:
    endpoint: Endpoint
    failures: list[datetime] = field(default_factory=list)

    def get(self, endpoint_id: str) -> Endpoint | None:
        return self.endpoint if endpoint_id == self.endpoint.id else None

    def all(self) -> list[Endpoint]:
        return [self.endpoint]

    def record_failure(self, endpoint_id: str, now: datetime) -> None:
        self.failures.append(now)
        if self.endpoint.failing_since is None:
            self.endpoint = replace(self.endpoint, failing_since=now)

    def record_success(self, endpoint_id: str) -> None:
        self.endpoint = replace(self.endpoint, failing_since=None)

    def set_status(self, endpoint_id: str, status: EndpointStatus) -> bool:
        self.endpoint = replace(self.endpoint, status=status)
        return True


@dataclass
class _Queue:
    sent: list[tuple[Delivery, int]] = field(default_factory=list)
    dead: list[tuple[Delivery, str]] = field(default_factory=list)

    def send(self, delivery: Delivery, delay_seconds: int) -> None:
        self.sent.append((delivery, delay_seconds))

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        self.dead.append((delivery, reason))


def _dispatcher(
    ok: bool, now: datetime = NOW, failing_since: datetime | None = None
) -> tuple[WebhookDispatcher, _Endpoints, _Queue]:
    endpoint = Endpoint("e-1", "https://hooks.example.com/", frozenset(), "arn:s", NOW)
    endpoints = _Endpoints(replace(endpoint, failing_since=failing_since))
    queue = _Queue()
    dispatcher = WebhookDispatcher(
        endpoints=endpoints,
        queue=queue,
        post=lambda e, d, n: AttemptResult(ok, None if ok else "HTTP 500"),
        policy=RetryPolicy(schedule=(5, 3600)),
        clock=lambda: now,
    )
    return dispatcher, endpoints, queue


DELIVERY = Delivery("e-1", "m-1", "UserCreated", "{}")


def test_given_failures_then_retried_on_the_schedule_with_long_waits_in_hops_then_dead() -> None:
    dispatcher, _, queue = _dispatcher(ok=False)

    dispatcher.attempt(DELIVERY)
    ((second, delay),) = queue.sent
    assert (second.attempt, delay, second.last_error) == (2, 5, "HTTP 500")

    dispatcher.attempt(replace(second, not_before=0))
    (third, delay) = queue.sent[-1]
    assert (third.attempt, delay) == (3, 900)  # an hour's wait, 15 minutes at a time
    assert third.not_before == (NOW + timedelta(hours=1)).timestamp()

    sent = len(queue.sent)
    dispatcher.attempt(third)  # arrives early: waits again (at most 15 minutes), not attempted
    assert queue.sent[sent:] == [(third, 900)]

    dispatcher.attempt(replace(third, not_before=0))
    assert [reason for _, reason in queue.dead] == ["no attempt left after 3: HTTP 500"]


def test_given_an_endpoint_failing_longer_than_allowed_then_disabled_and_dead_lettered() -> None:
    dispatcher, endpoints, queue = _dispatcher(ok=False, failing_since=NOW - timedelta(days=6))

    dispatcher.attempt(DELIVERY)

    assert endpoints.endpoint.status is EndpointStatus.DISABLED
    assert "endpoint disabled" in queue.dead[0][1]
    dispatcher.attempt(DELIVERY)  # later deliveries: straight to the dead letters, not POSTed
    assert queue.dead[-1][1] == "endpoint disabled"
    assert len(endpoints.failures) == 1


def test_given_a_success_then_the_run_of_failures_ends() -> None:
    dispatcher, endpoints, queue = _dispatcher(ok=True, failing_since=NOW - timedelta(days=1))

    dispatcher.attempt(DELIVERY)

    assert endpoints.endpoint.failing_since is None
    assert (queue.sent, queue.dead) == ([], [])
