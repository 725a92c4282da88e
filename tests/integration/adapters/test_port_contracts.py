"""The in-memory fakes (``tests/support/fakes.py``) and the DynamoDB adapters keep the same port
contracts.

Every test runs twice, on the fakes and on the adapters against moto, so the fast unit tests of
the use cases rest on the same guarantees the real table gives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.dynamodb_devices import DynamoDBDeviceRepository
from adapters.dynamodb_login_state import DynamoDBLoginState
from adapters.dynamodb_rate_limiter import DynamoDBRateLimiter
from adapters.dynamodb_session_repository import DynamoDBSessionRepository
from adapters.dynamodb_user_repository import DynamoDBUserRepository
from domain.auth_models import RefreshRecord, SessionFamily
from domain.errors import EmailAlreadyExists, InvalidCursor, UserNotFound, VersionConflict
from domain.login_throttle import ThrottleState, TrustedDevice
from domain.ports import (
    DeviceRepository,
    LoginStateRepository,
    RateLimiter,
    SessionRepository,
    UserRepository,
)
from domain.source_limits import SourceCounters, SourceLimits
from domain.users import User, UserAccount
from tests.support.fakes import (
    InMemoryDeviceRepository,
    InMemoryLoginState,
    InMemoryRateLimiter,
    InMemorySessionRepository,
    InMemoryUserRepository,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class Ports:
    users: UserRepository
    login_state: LoginStateRepository
    sessions: SessionRepository
    devices: DeviceRepository
    counters: RateLimiter
    source_counters: SourceCounters


@pytest.fixture(params=["in-memory", "dynamodb"])
def ports(request: pytest.FixtureRequest) -> Ports:
    if request.param == "in-memory":
        users = InMemoryUserRepository()
        return Ports(
            users,
            InMemoryLoginState(users),
            InMemorySessionRepository(),
            InMemoryDeviceRepository(),
            limiter := InMemoryRateLimiter(),
            limiter,
        )
    table = request.getfixturevalue("stack").physical_id("UserRegistrationTable")
    return Ports(
        DynamoDBUserRepository(table, cursor_key=lambda: b"k" * 32),
        DynamoDBLoginState(table),
        DynamoDBSessionRepository(table),
        DynamoDBDeviceRepository(table),
        counters := DynamoDBRateLimiter(table),
        counters,
    )


def _account(user_id: str, email: str, minute: int = 0) -> UserAccount:
    created = NOW + timedelta(minutes=minute)
    user = User(id=user_id, email=email, name=user_id, created_at=created, updated_at=created)
    return UserAccount(user=user, password_hash=f"hash-of-{user_id}")


def _next_version(account: UserAccount, **changes: object) -> UserAccount:
    user = account.user.model_copy(update={**changes, "version": account.user.version + 1})
    return account.model_copy(update={"user": user})


# ---------------------------------------------------------------- users
def test_given_a_claimed_email_when_another_user_is_added_with_it_then_refused(
    ports: Ports,
) -> None:
    first = _account("u-1", "ann@example.com")
    ports.users.add(first)

    with pytest.raises(EmailAlreadyExists):
        ports.users.add(_account("u-2", "ann@example.com"))

    assert ports.users.find_by_email("ann@example.com") == first
    with pytest.raises(UserNotFound):
        ports.users.get("u-2")


def test_given_a_stale_read_when_saved_then_version_conflict_and_nothing_written(
    ports: Ports,
) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)
    ports.users.save(_next_version(stored, name="First"), stored)

    with pytest.raises(VersionConflict):
        ports.users.save(_next_version(stored, name="Second"), stored)

    assert ports.users.get("u-1").user.name == "First"


def test_given_login_bookkeeping_since_the_read_when_saved_then_it_survives(ports: Ports) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)
    assert ports.login_state.record_successful_login(stored, "rehashed", NOW)

    ports.users.save(_next_version(stored, name="Renamed"), stored)

    saved = ports.users.get("u-1")
    assert (saved.user.name, saved.password_hash) == ("Renamed", "rehashed")


def test_given_revocations_since_the_read_when_saved_then_refused_and_kept_on_a_fresh_read(
    ports: Ports,
) -> None:
    """Revocations are security changes at their own versions (SessionsRevoked): a save from an
    older read loses the race, and the use case redoes it on a fresh read, which keeps them."""
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)
    ports.login_state.revoke_all_sessions("u-1", NOW)
    ports.login_state.revoke_session("u-1", "f-1", NOW)

    with pytest.raises(VersionConflict):
        ports.users.save(_next_version(stored, name="Renamed"), stored)
    fresh = ports.users.get("u-1")
    ports.users.save(_next_version(fresh, name="Renamed"), fresh)

    saved = ports.users.get("u-1")
    assert (saved.user.name, saved.user.version, saved.sessions_revoked_at) == ("Renamed", 4, NOW)
    assert saved.revoked_sessions == {"f-1": NOW}


def test_given_an_email_change_when_saved_then_the_claim_moves(ports: Ports) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)
    ports.users.add(_account("u-2", "bob@example.com"))

    with pytest.raises(EmailAlreadyExists):
        ports.users.save(_next_version(stored, email="bob@example.com"), stored)
    ports.users.save(_next_version(stored, email="ann@new.example"), stored)

    assert ports.users.find_by_email("ann@example.com") is None
    assert ports.users.get("u-1") == ports.users.find_by_email("ann@new.example")
    ports.users.add(_account("u-3", "ann@example.com"))


def test_given_a_user_when_removed_twice_then_gone_email_free_and_second_not_found(
    ports: Ports,
) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)

    ports.users.remove(_next_version(stored), stored)

    with pytest.raises(UserNotFound):
        ports.users.remove(_next_version(stored), stored)
    assert ports.users.find_by_email("ann@example.com") is None
    ports.users.add(_account("u-2", "ann@example.com"))


def test_given_a_stale_read_when_removed_then_conflict_and_the_user_stays(ports: Ports) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)
    ports.users.save(_next_version(stored, name="Ann B"), stored)

    with pytest.raises(VersionConflict):
        ports.users.remove(_next_version(stored), stored)
    assert ports.users.get("u-1").user.name == "Ann B"


def test_given_users_when_listed_by_pages_then_creation_order_and_forged_cursors_refused(
    ports: Ports,
) -> None:
    for minute, user_id in enumerate(["u-c", "u-a", "u-b"]):
        ports.users.add(_account(user_id, f"{user_id}@example.com", minute))

    first = ports.users.list_users(2, None)
    assert first.next_cursor is not None
    rest = ports.users.list_users(2, first.next_cursor)

    assert [u.id for u in [*first.items, *rest.items]] == ["u-c", "u-a", "u-b"]
    with pytest.raises(InvalidCursor):
        ports.users.list_users(2, "forged.cursor")


# ---------------------------------------------------------------- login state
def test_given_failures_then_each_is_counted_and_a_wait_is_only_ever_moved_later(
    ports: Ports,
) -> None:
    ports.users.add(_account("u-1", "ann@example.com"))
    later, sooner = NOW + timedelta(minutes=15), NOW + timedelta(minutes=1)

    counts = [ports.login_state.record_failed_login("u-1", NOW) for _ in range(4)]
    ports.login_state.throttle("u-1", later)
    ports.login_state.throttle("u-1", sooner)  # a concurrent, earlier failure's wait

    assert counts == [1, 2, 3, 4]
    account = ports.users.get("u-1")
    # Counting is bookkeeping; the wait that started is a lock (AccountLocked): one new version.
    assert (account.failed_logins, account.locked_until, account.user.version) == (4, later, 2)
    assert ports.login_state.record_failed_login("nobody", NOW) is None
    ports.login_state.throttle("nobody", later)  # nothing to throttle, no item made


def test_given_a_changed_hash_a_wait_or_a_failure_since_the_read_then_no_success_is_recorded(
    ports: Ports,
) -> None:
    ports.users.add(_account("u-1", "ann@example.com"))
    ports.login_state.record_failed_login("u-1", NOW)
    read = ports.users.get("u-1")
    later = NOW + timedelta(minutes=15)

    changed = read.model_copy(update={"password_hash": "an older hash"})
    assert not ports.login_state.record_successful_login(changed, None, NOW)
    ports.login_state.throttle("u-1", later)
    assert not ports.login_state.record_successful_login(read, None, NOW)
    ports.login_state.record_failed_login("u-1", NOW)
    assert not ports.login_state.record_successful_login(read, None, later)
    assert ports.login_state.record_successful_login(ports.users.get("u-1"), "rehashed", later)

    account = ports.users.get("u-1")
    assert (account.failed_logins, account.locked_until, account.password_hash) == (
        0,
        None,
        "rehashed",
    )
    assert account.user.version == 2  # the lock's; a success and a re-hash keep the version


def test_given_a_throttled_account_when_an_operator_clears_it_then_its_run_is_forgotten(
    ports: Ports,
) -> None:
    ports.users.add(_account("u-1", "ann@example.com"))
    ports.login_state.record_failed_login("u-1", NOW)
    ports.login_state.throttle("u-1", NOW + timedelta(minutes=15))

    assert ports.login_state.clear_throttle("u-1")
    assert not ports.login_state.clear_throttle("nobody")

    account = ports.users.get("u-1")
    # The lock took version 2; its wait (at NOW, long past) had run out: clearing it is no unlock.
    assert (account.failed_logins, account.locked_until, account.user.version) == (0, None, 2)


def test_given_a_rehash_then_stored_only_while_the_hash_is_the_one_verified(
    ports: Ports,
) -> None:
    stored = _account("u-1", "ann@example.com")
    ports.users.add(stored)

    assert not ports.login_state.store_rehash(
        stored.model_copy(update={"password_hash": "stale"}), "rehashed"
    )
    assert ports.login_state.store_rehash(stored, "rehashed")
    assert ports.users.get("u-1").password_hash == "rehashed"


def test_given_session_revocations_then_each_is_kept_and_the_forgotten_ones_dropped(
    ports: Ports,
) -> None:
    ports.users.add(_account("u-1", "ann@example.com"))
    until = NOW + timedelta(minutes=15)

    ports.login_state.revoke_session("u-1", "f-1", NOW)
    ports.login_state.revoke_session("u-1", "f-2", until)
    ports.login_state.revoke_session("u-1", "f-3", until, forget=["f-1", "never-there"])
    ports.login_state.revoke_session("nobody", "f-4", until)

    account = ports.users.get("u-1")
    assert account.revoked_sessions == {"f-2": until, "f-3": until}
    assert account.user.version == 4  # each revocation is a change (SessionsRevoked)
    with pytest.raises(UserNotFound):
        ports.users.get("nobody")


# ---------------------------------------------------------------- trusted devices
def _device(failures: int = 0) -> TrustedDevice:
    return TrustedDevice(
        token_hash="d-1",
        user_id="u-1",
        created_at=NOW,
        expires_at=NOW + timedelta(days=365),
        state=ThrottleState(failures=failures),
    )


def test_given_a_device_when_stored_then_read_back_by_its_hash(ports: Ports) -> None:
    ports.devices.add_device(_device())

    assert ports.devices.find_device("d-1") == _device()
    assert ports.devices.find_device("d-2") is None


def test_given_device_failures_then_counted_throttled_and_ended_only_by_a_success_as_read(
    ports: Ports,
) -> None:
    ports.devices.add_device(_device())
    later = NOW + timedelta(minutes=1)

    counts = [ports.devices.record_device_failure("d-1", NOW) for _ in range(2)]
    ports.devices.throttle_device("d-1", later)
    assert ports.devices.record_device_failure("d-9", NOW) is None

    throttled = ports.devices.find_device("d-1")
    assert counts == [1, 2]
    assert throttled is not None
    assert throttled.state == ThrottleState(failures=2, throttled_until=later)
    assert not ports.devices.record_device_success(_device(failures=2), NOW)  # waiting
    assert not ports.devices.record_device_success(_device(failures=1), later)  # one since
    renewed = replace(_device(failures=2), expires_at=later + timedelta(days=365))
    assert ports.devices.record_device_success(renewed, later)
    assert ports.devices.find_device("d-1") == replace(renewed, state=ThrottleState())


# ---------------------------------------------------------------- sessions
def _record(token_hash: str, expires: datetime, family: str = "f-1") -> RefreshRecord:
    return RefreshRecord(token_hash=token_hash, user_id="u-1", family_id=family, expires_at=expires)


def test_given_a_token_when_rotated_twice_then_only_the_first_wins(ports: Ports) -> None:
    expires = NOW + timedelta(days=30)
    family = SessionFamily(
        family_id="f-1", user_id="u-1", created_at=NOW, expires_at=expires, auth_time=NOW
    )
    first, second, third = (_record(h, expires) for h in ("h-1", "h-2", "h-3"))
    ports.sessions.start_family(family, first)

    assert ports.sessions.rotate(first, second, NOW)
    assert not ports.sessions.rotate(first, third, NOW)

    assert ports.sessions.find_token("h-1") == RefreshRecord(
        token_hash="h-1", user_id="u-1", family_id="f-1", expires_at=expires, rotated_at=NOW
    )
    assert ports.sessions.find_token("h-2") == second
    assert ports.sessions.find_token("h-3") is None


def test_given_a_revoked_family_when_rotating_then_refused_and_revocation_time_kept(
    ports: Ports,
) -> None:
    expires = NOW + timedelta(days=30)
    family = SessionFamily(
        family_id="f-1", user_id="u-1", created_at=NOW, expires_at=expires, auth_time=NOW
    )
    ports.sessions.start_family(family, _record("h-1", expires))

    ports.sessions.revoke_family("f-1", NOW)
    ports.sessions.revoke_family("f-1", NOW + timedelta(hours=1))
    ports.sessions.revoke_family("no-such-family", NOW)

    assert not ports.sessions.rotate(_record("h-1", expires), _record("h-2", expires), NOW)
    assert ports.sessions.get_family("f-1") == SessionFamily(
        family_id="f-1",
        user_id="u-1",
        created_at=NOW,
        expires_at=expires,
        auth_time=NOW,
        revoked_at=NOW,
    )
    assert ports.sessions.get_family("no-such-family") is None


def test_given_a_family_when_read_back_then_its_login_time_and_methods_are_kept(
    ports: Ports,
) -> None:
    """Refresh issues every access token of the family with the login's auth_time and amr."""
    expires = NOW + timedelta(days=30)
    login = NOW - timedelta(minutes=3)
    family = SessionFamily(
        family_id="f-1",
        user_id="u-1",
        created_at=NOW,
        expires_at=expires,
        auth_time=login,
        amr=("pwd", "otp"),
    )
    ports.sessions.start_family(family, _record("h-1", expires))

    assert ports.sessions.get_family("f-1") == family


# ---------------------------------------------------------------- limits
def test_given_a_fixed_window_limit_then_allowed_up_to_it_and_again_in_the_next_window(
    ports: Ports,
) -> None:
    hour = timedelta(hours=1)

    first = [ports.counters.allow("mail#to#x", 2, hour, NOW) for _ in range(3)]
    other_key = ports.counters.allow("mail#to#y", 2, hour, NOW)
    next_window = ports.counters.allow("mail#to#x", 2, hour, NOW + hour)

    assert first == [True, True, False]
    assert other_key
    assert next_window


def test_given_a_sources_window_then_requests_per_route_and_failures_across_routes_count(
    ports: Ports,
) -> None:
    limits = SourceLimits(requests=2, failures=2)
    start = int(NOW.timestamp())

    logins = [ports.source_counters.admit("s-1", "login", limits, start) for _ in range(3)]
    refresh = ports.source_counters.admit("s-1", "refresh", limits, start)
    ports.source_counters.count_failure("s-1", limits, start)
    ports.source_counters.count_failure("s-1", limits, start)
    after_failures = ports.source_counters.admit("s-1", "refresh", limits, start)
    next_window = ports.source_counters.admit("s-1", "login", limits, start + 900)

    assert logins == [True, True, False]
    assert refresh
    assert not after_failures
    assert next_window
