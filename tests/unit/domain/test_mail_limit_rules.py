"""One mail limiter for every message the API sends (domain/mail_limits.py), and no text a user
typed in mail to an unverified address (domain/mail.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.mail import MailKind, MailRequest, render
from domain.mail_limits import MAIL_RATE_LIMITED, MailLimiter, MailLimits
from domain.password_guard import PasswordGuard
from domain.user_service import UserService
from domain.users import Registration, User, UserPatch
from tests.support.fakes import InMemoryRateLimiter
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
PRIZE = "Hello Claim your prize at https://evil.example/win"
VICTIM = "victim@example.com"


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


@pytest.fixture
def limiter(backend: InMemoryBackend) -> MailLimiter:
    return MailLimiter(
        InMemoryRateLimiter(),
        MailLimits(per_recipient=3, per_source=5),
        backend.clock,
        record_metric=backend.record,
    )


def _service(backend: InMemoryBackend, limiter: MailLimiter) -> UserService:
    guard = PasswordGuard(backend.login_state, backend.hasher, clock=backend.clock)
    return UserService(
        backend.users,
        backend.hasher,
        clock=backend.clock,
        password_guard=guard,
        mail_limiter=limiter,
    )


def _register(service: UserService, email: str, source: str, name: str = PRIZE) -> User:
    registration = Registration.model_validate({"email": email, "password": PASSWORD, "name": name})
    return service.register(registration, source)


def _to(backend: InMemoryBackend, address: str) -> list[MailRequest]:
    return [message for message in backend.users.outbox if message.to == address]


def test_given_registrations_aimed_at_one_address_then_only_the_limit_is_mailed_but_all_done(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    service = _service(backend, limiter)
    for attempt in range(5):
        account = backend.users.get(_register(service, VICTIM, f"198.51.100.{attempt}").id)
        backend.users.remove(account, account)  # deleted again

    assert len(_to(backend, VICTIM)) == 3
    assert backend.users.find_by_email(VICTIM) is None
    assert backend.metrics == [MAIL_RATE_LIMITED] * 2  # on-call sees what was not sent


def test_given_email_changes_aimed_at_one_address_then_the_same_limit_counts_them(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    service = _service(backend, limiter)
    attacker = _register(service, "attacker@example.com", "198.51.100.1")
    caller = backend.caller(attacker)
    for index in range(4):
        to = VICTIM if index % 2 == 0 else f"elsewhere{index}@example.com"
        patch = UserPatch.model_validate({"email": to, "current_password": PASSWORD})
        service.update(caller, "me", patch, source=f"203.0.113.{index}")

    # Link to the victim twice, the notice "changed away" once: three, then nothing more.
    assert len(_to(backend, VICTIM)) == 3
    patch = UserPatch.model_validate({"email": VICTIM, "current_password": PASSWORD})
    changed = service.update(caller, "me", patch, source="203.0.113.9")
    assert changed.email == VICTIM  # the change is made
    assert len(_to(backend, VICTIM)) == 3


def test_given_one_source_mailing_many_addresses_then_its_own_limit_stops_it(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    service = _service(backend, limiter)

    for index in range(8):
        _register(service, f"someone{index}@example.com", "198.51.100.7")

    assert len(backend.users.outbox) == 5


def test_given_a_new_hour_then_the_limits_start_again(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    assert [limiter.allow(VICTIM, "198.51.100.1") for _ in range(4)] == [True] * 3 + [False]
    assert limiter.retry_after() == 30 * 60

    backend.clock.advance(timedelta(minutes=30))

    assert limiter.allow("VICTIM@example.com", "198.51.100.1")  # the address as typed too


def test_given_an_unverified_address_then_no_mail_quotes_the_name_or_the_new_address(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    service = _service(backend, limiter)
    user = _register(service, "owner@example.com", "198.51.100.1")
    patch = UserPatch.model_validate({"email": VICTIM, "current_password": PASSWORD})
    service.update(backend.caller(user), "me", patch, source="198.51.100.1")

    for message in backend.users.outbox:
        text = render(message, "https://app.example.com", "a.b.c").text
        assert (message.name, message.new_email) == (None, None)
        assert "evil.example" not in text
        assert VICTIM not in text
        assert text.startswith("Hello,\n")


def test_given_a_verified_address_then_the_notice_names_the_user_and_the_new_address(
    backend: InMemoryBackend, limiter: MailLimiter
) -> None:
    service = _service(backend, limiter)
    user = _register(service, "owner@example.com", "198.51.100.1", name="Ann")
    stored = backend.users.items[user.id]
    verified = stored.account.user.model_copy(update={"email_verified": True})
    stored.account = stored.account.model_copy(update={"user": verified})
    patch = UserPatch.model_validate(
        {"email": "ann@elsewhere.example", "current_password": PASSWORD}
    )

    service.update(backend.caller(verified), "me", patch, source="198.51.100.1")

    notice = next(m for m in backend.users.outbox if m.kind == MailKind.EMAIL_CHANGED)
    text = render(notice, "https://app.example.com", None).text
    assert text.startswith("Hello Ann,\n")
    assert "changed to ann@elsewhere.example" in text
