"""Lazy migration from another user pool (domain/user_migration.py) at login and forgot-password,
on in-memory ports and a fake pool; Cognito itself: tests/integration/api/test_user_migration.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.auth_models import TokenPair
from domain.auth_service import LOGIN_FAILED, LOGIN_SUCCEEDED, AuthService
from domain.errors import AuthenticationFailed, EmailAlreadyExists, LoginThrottled
from domain.metadata import MetadataPolicy, json_schema_check
from domain.passwords import ARGON2ID_PREFIX, PasswordHasher
from domain.pool_user import PoolUser
from domain.user_migration import IN_POOL_PREFIX, UserMigration, password_in_pool
from domain.users import Origin, UserAccount
from tests.support.fakes import InMemoryUserPool
from tests.support.in_memory_backend import Clock, InMemoryBackend

POOL_PASSWORD = "the password Cognito knows"
WRONG = "not the password at all"
SIGNED_UP = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def real_now() -> datetime:
    """Issued tokens are verified against the real time (PyJWT)."""
    return datetime.now(UTC).replace(microsecond=0)


def pool_user(email: str = "carol@example.com", **changes: object) -> PoolUser:
    values: dict[str, object] = {
        "pool_user_id": "0f1e2d3c-sub",
        "email": email,
        "email_verified": True,
        "name": "Carol Jones",
        "phone": "+15555550123",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "created_at": SIGNED_UP,
        "attributes": {"plan": "pro"},
    }
    return PoolUser(**(values | changes))  # type: ignore[arg-type]


class CountingHasher(PasswordHasher):
    """The test cost, counting verifications: the time a login spends is in them."""

    def __init__(self) -> None:
        super().__init__(InMemoryBackend(Clock(real_now())).hasher.cost)
        self.verifications = 0

    def verify(self, password: str, encoded: str) -> bool:
        if not encoded.startswith("!"):  # an unusable hash counts once, for its inner check
            self.verifications += 1
        return super().verify(password, encoded)


@pytest.fixture
def pool() -> InMemoryUserPool:
    found = InMemoryUserPool()
    found.add(pool_user(), POOL_PASSWORD)
    return found


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(real_now()), hasher=CountingHasher())


def migration(
    backend: InMemoryBackend, pool: InMemoryUserPool, metadata: MetadataPolicy | None = None
) -> UserMigration:
    return UserMigration(
        pool=pool,
        users=backend.users,
        login_state=backend.login_state,
        hasher=backend.hasher,
        metadata=metadata,
        clock=backend.clock,
    )


def auth(backend: InMemoryBackend, pool: InMemoryUserPool) -> AuthService:
    return backend.auth_service(migration(backend, pool))


def stored(backend: InMemoryBackend, email: str = "carol@example.com") -> UserAccount:
    account = backend.users.find_by_email(email)
    assert account is not None
    return account


# ---------------------------------------------------------------- login
def test_given_a_pool_user_when_logging_in_with_their_password_then_moved_over_and_logged_in(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    pair = auth(backend, pool).login("carol@example.com", POOL_PASSWORD)

    assert isinstance(pair, TokenPair)
    account = stored(backend)
    assert backend.verifier().verify(pair.access_token).sub == account.user.id
    assert account.password_hash.startswith(ARGON2ID_PREFIX)
    assert backend.hasher.verify(POOL_PASSWORD, account.password_hash)
    assert account.origin is Origin.MIGRATION
    user = account.user
    assert (user.email, user.email_verified, user.name) == (
        "carol@example.com",
        True,
        "Carol Jones",
    )
    assert (user.phone, user.locale, user.timezone) == ("+15555550123", "en-GB", "Europe/London")
    assert user.created_at == SIGNED_UP
    assert user.app_metadata == {"plan": "pro", "migrated_from": "0f1e2d3c-sub"}
    assert user.metadata == {}
    assert backend.metrics == [LOGIN_SUCCEEDED]


def test_given_a_moved_user_when_logging_in_again_then_the_pool_is_not_asked(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    service = auth(backend, pool)
    service.login("carol@example.com", POOL_PASSWORD)
    pool.calls.clear()

    assert isinstance(service.login("carol@example.com", POOL_PASSWORD), TokenPair)
    with pytest.raises(AuthenticationFailed):
        service.login("carol@example.com", WRONG)
    assert pool.calls == []


@pytest.mark.parametrize(
    ("email", "password"), [("carol@example.com", WRONG), ("nobody@example.com", POOL_PASSWORD)]
)
def test_given_a_wrong_password_or_an_address_unknown_to_both_then_todays_unknown_user(
    backend: InMemoryBackend, pool: InMemoryUserPool, email: str, password: str
) -> None:
    without = InMemoryBackend(Clock(real_now()), hasher=CountingHasher())
    with pytest.raises(AuthenticationFailed) as today:
        without.auth_service().login(email, password)

    with pytest.raises(AuthenticationFailed) as failure:
        auth(backend, pool).login(email, password)

    # The same body, the same record, the same work (one full verification per password form).
    assert failure.value.message == today.value.message == "Invalid credentials"
    assert backend.outcomes == without.outcomes == [(LOGIN_FAILED, None, None)]
    assert isinstance(backend.hasher, CountingHasher)
    assert isinstance(without.hasher, CountingHasher)
    assert backend.hasher.verifications == without.hasher.verifications == 1
    assert backend.users.items == {}


def test_given_an_address_registered_here_when_logging_in_then_the_pool_is_never_asked(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    backend.register(email="carol@example.com")

    with pytest.raises(AuthenticationFailed):
        auth(backend, pool).login("carol@example.com", POOL_PASSWORD)

    assert pool.calls == []


def test_given_attributes_this_service_would_refuse_then_left_out_and_the_user_moved(
    backend: InMemoryBackend,
) -> None:
    pool = InMemoryUserPool()
    odd = pool_user(name="\x00", phone="555-0123", locale="English", timezone="../etc/passwd")
    pool.add(odd, POOL_PASSWORD)

    auth(backend, pool).login("carol@example.com", POOL_PASSWORD)

    user = stored(backend).user
    assert (user.name, user.phone, user.locale, user.timezone) == ("carol", None, None, None)


def test_given_custom_attributes_the_deployers_schema_refuses_then_none_are_kept(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    schema = json_schema_check('{"type": "object", "properties": {"plan": {"enum": ["free"]}}}')
    moving = migration(backend, pool, MetadataPolicy(schemas={"app_metadata": schema}))

    account = moving.migrate_with_password("carol@example.com", POOL_PASSWORD)

    assert account is not None
    assert account.user.app_metadata == {}


def test_given_an_address_the_pool_holds_but_this_service_cannot_then_not_moved(
    backend: InMemoryBackend,
) -> None:
    pool = InMemoryUserPool()
    pool.add(pool_user(email="not an address"), POOL_PASSWORD)

    assert migration(backend, pool).migrate_with_password("not an address", POOL_PASSWORD) is None
    assert backend.users.items == {}


def test_given_a_concurrent_migration_when_the_address_is_taken_then_that_user_stands(
    backend: InMemoryBackend, pool: InMemoryUserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = migration(backend, pool).migrate_with_password("carol@example.com", POOL_PASSWORD)
    assert first is not None
    monkeypatch.setattr(backend.users, "find_by_email", _missing_once(backend.users.find_by_email))

    again = auth(backend, pool).login("carol@example.com", POOL_PASSWORD)

    assert isinstance(again, TokenPair)
    assert list(backend.users.items) == [first.user.id]
    assert backend.verifier().verify(again.access_token).sub == first.user.id


def _missing_once(find: object) -> object:
    """``find_by_email`` that misses once (the concurrent request read before the other wrote)."""
    calls = iter([True])

    def lookup(email: str) -> UserAccount | None:
        if next(calls, False):
            return None
        return find(email)  # type: ignore[operator, no-any-return]

    return lookup


# ---------------------------------------------------------------- forgot-password
def test_given_a_pool_user_when_moved_for_a_reset_then_stored_with_the_password_still_the_pools(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    account = migration(backend, pool).migrate_for_reset("carol@example.com")

    assert account is not None
    assert stored(backend) == account
    assert password_in_pool(account)
    assert account.password_hash.startswith(IN_POOL_PREFIX)
    assert not account.has_password
    assert not backend.hasher.verify(POOL_PASSWORD, account.password_hash)
    assert migration(backend, pool).migrate_for_reset("nobody@example.com") is None


def test_given_a_user_moved_for_a_reset_when_logging_in_with_the_pools_password_then_it_is_theirs(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    migration(backend, pool).migrate_for_reset("carol@example.com")

    pair = auth(backend, pool).login("carol@example.com", POOL_PASSWORD)

    assert isinstance(pair, TokenPair)
    account = stored(backend)
    assert account.password_hash.startswith(ARGON2ID_PREFIX)
    assert backend.hasher.verify(POOL_PASSWORD, account.password_hash)


def test_given_a_user_moved_for_a_reset_when_guessing_then_this_services_throttle_applies(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    migration(backend, pool).migrate_for_reset("carol@example.com")
    service = auth(backend, pool)
    free = backend.policy.throttle.free_failures
    for _ in range(free - 1):
        with pytest.raises(AuthenticationFailed):
            service.login("carol@example.com", WRONG)
    with pytest.raises(LoginThrottled):  # the failure that starts the wait
        service.login("carol@example.com", WRONG)
    pool.calls.clear()

    with pytest.raises(LoginThrottled):
        service.login("carol@example.com", POOL_PASSWORD)
    assert pool.calls == []  # a throttled account gets no verdict, from either side
    assert stored(backend).failed_logins == free


def test_given_a_reset_done_meanwhile_when_the_pools_password_arrives_then_the_reset_stands(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    moved = migration(backend, pool).migrate_for_reset("carol@example.com")
    assert moved is not None
    reset = moved.model_copy(update={"password_hash": backend.hasher.hash("a newer passphrase")})
    backend.users.items[moved.user.id].account = reset

    kept = migration(backend, pool).with_pool_password(moved, POOL_PASSWORD)

    assert kept == moved  # not taken: what is stored now decides the login
    assert stored(backend).password_hash == reset.password_hash


def test_given_a_user_who_never_was_in_the_pool_then_the_pool_is_never_asked(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    backend.register(email="dave@example.com")
    account = stored(backend, "dave@example.com")

    assert migration(backend, pool).with_pool_password(account, POOL_PASSWORD) is account
    assert pool.calls == []


def test_given_the_same_address_twice_when_moved_for_a_reset_then_one_user(
    backend: InMemoryBackend, pool: InMemoryUserPool
) -> None:
    first = migration(backend, pool).migrate_for_reset("carol@example.com")
    backend.users.add = _taken  # type: ignore[method-assign]

    second = migration(backend, pool).migrate_for_reset("carol@example.com")

    assert first is not None
    assert second is not None
    assert second.user.id == first.user.id


def _taken(account: UserAccount, messages: object = ()) -> None:
    raise EmailAlreadyExists
