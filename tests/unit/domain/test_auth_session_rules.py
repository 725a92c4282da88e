"""``AuthService`` session rules (refresh rotation, reuse detection, logout) on in-memory ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from domain.access import Caller
from domain.auth_models import LogoutRequest, TokenPair
from domain.errors import AuthenticationFailed
from domain.sessions import REFRESH_REUSE_DETECTED, hash_refresh_token
from domain.users import User, UserPatch, UserStatus
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend


# Issued tokens are verified, and PyJWT checks their expiry against the real time.
def real_now() -> datetime:
    """Issued tokens are verified, and PyJWT checks their expiry against the real time: each
    test's clock starts at the real time of that test (not of the module's import)."""
    return datetime.now(UTC).replace(microsecond=0)


NEW_PASSWORD = "a brand new passphrase"
CHANGE_PASSWORD = UserPatch.model_validate({"password": NEW_PASSWORD, "current_password": PASSWORD})


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(real_now()))


@pytest.fixture
def user(backend: InMemoryBackend) -> User:
    return backend.register()


def _refresh_fails(backend: InMemoryBackend, refresh_token: str) -> bool:
    try:
        backend.auth_service().refresh(refresh_token)
    except AuthenticationFailed:
        return True
    return False


# ---------------------------------------------------------------- refresh
def _login(backend: InMemoryBackend, user: User, password: str = PASSWORD) -> TokenPair:
    pair = backend.auth_service().login(user.email, password)
    assert isinstance(pair, TokenPair)  # no second factor in these tests
    return pair


def test_given_a_refresh_token_when_refreshed_then_a_new_pair_and_the_old_token_is_spent(
    backend: InMemoryBackend, user: User
) -> None:
    first = _login(backend, user)

    second = backend.auth_service().refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert backend.verifier().verify(second.access_token).sub == user.id
    spent = backend.sessions.find_token(hash_refresh_token(first.refresh_token))
    assert spent is not None
    assert spent.rotated_at == backend.clock.now


def test_given_a_rotated_token_when_reused_then_refused_and_the_whole_family_is_revoked(
    backend: InMemoryBackend, user: User
) -> None:
    first = _login(backend, user)
    second = backend.auth_service().refresh(first.refresh_token)

    assert _refresh_fails(backend, first.refresh_token)
    assert _refresh_fails(backend, second.refresh_token)
    assert backend.metrics[-1] == REFRESH_REUSE_DETECTED
    [family] = backend.sessions.families  # the outcome names whose family was stolen
    assert (REFRESH_REUSE_DETECTED, user.id, family) in backend.outcomes


def test_given_two_concurrent_refreshes_of_one_token_then_the_loser_revokes_the_family(
    backend: InMemoryBackend, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _login(backend, user)
    read_before = backend.sessions.find_token(hash_refresh_token(first.refresh_token))
    winner = backend.auth_service().refresh(first.refresh_token)
    monkeypatch.setattr(backend.sessions, "find_token", lambda token_hash: read_before)

    assert _refresh_fails(backend, first.refresh_token)

    monkeypatch.undo()
    assert backend.metrics[-1] == REFRESH_REUSE_DETECTED
    assert _refresh_fails(backend, winner.refresh_token)


def test_given_a_session_refreshed_within_the_idle_timeout_then_it_lives_until_its_absolute_end(
    backend: InMemoryBackend, user: User
) -> None:
    """Each refresh moves the idle deadline, never the absolute one (the login's + lifetime)."""
    policy = backend.policy
    start = backend.clock.now
    pair = _login(backend, user)
    while backend.clock.now + policy.idle_timeout < start + policy.session_lifetime:
        backend.clock.advance(policy.idle_timeout - timedelta(seconds=1))
        pair = backend.auth_service().refresh(pair.refresh_token)
    stored = backend.sessions.find_token(hash_refresh_token(pair.refresh_token))

    assert stored is not None
    assert stored.expires_at == start + policy.session_lifetime
    backend.clock.advance(start + policy.session_lifetime - backend.clock.now)
    assert _refresh_fails(backend, pair.refresh_token)


def test_given_a_session_left_idle_longer_than_the_timeout_when_refreshed_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    pair = _login(backend, user)
    backend.clock.advance(backend.policy.idle_timeout - timedelta(seconds=1))
    pair = backend.auth_service().refresh(pair.refresh_token)

    backend.clock.advance(backend.policy.idle_timeout)

    assert _refresh_fails(backend, pair.refresh_token)


def test_given_a_family_stored_when_refresh_extended_it_then_the_lifetime_from_login_caps_it(
    backend: InMemoryBackend, user: User
) -> None:
    """Families stored before the absolute cap had their end moved by each refresh."""
    pair = _login(backend, user)
    [family_id] = backend.sessions.families
    family = backend.sessions.families[family_id]
    backend.sessions.families[family_id] = replace(
        family, expires_at=family.expires_at + timedelta(days=300)
    )
    record = backend.sessions.tokens[hash_refresh_token(pair.refresh_token)]
    backend.sessions.tokens[record.token_hash] = replace(
        record, expires_at=record.expires_at + timedelta(days=300)
    )

    backend.clock.advance(backend.policy.session_lifetime)

    assert _refresh_fails(backend, pair.refresh_token)


def test_given_an_expired_or_unknown_refresh_token_when_refreshed_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    pair = _login(backend, user)
    backend.clock.advance(backend.policy.idle_timeout)

    assert _refresh_fails(backend, pair.refresh_token)
    assert _refresh_fails(backend, "never-issued")


def test_given_a_reused_refresh_token_then_the_familys_access_tokens_are_refused_too(
    backend: InMemoryBackend, user: User
) -> None:
    first = _login(backend, user)
    other = _login(backend, user)
    second = backend.auth_service().refresh(first.refresh_token)
    stolen = _caller_of(backend, second.access_token)
    innocent = _caller_of(backend, other.access_token)

    assert _refresh_fails(backend, first.refresh_token)

    with pytest.raises(AuthenticationFailed):
        backend.user_service().get(stolen, "me")
    assert backend.user_service().get(innocent, "me").id == user.id
    until = backend.users.get(user.id).revoked_sessions[stolen.family_id or ""]
    assert until == backend.clock.now + backend.policy.access_token_ttl + timedelta(seconds=10)


def test_given_a_logout_then_that_sessions_access_tokens_are_refused_and_old_entries_forgotten(
    backend: InMemoryBackend, user: User
) -> None:
    long_ago = _login(backend, user)
    _logout(backend, user, refresh_token=long_ago.refresh_token)
    backend.clock.advance(timedelta(hours=1))
    phone, laptop = _login(backend, user), _login(backend, user)
    on_phone = _caller_of(backend, phone.access_token)

    _logout(backend, user, refresh_token=phone.refresh_token)

    with pytest.raises(AuthenticationFailed):
        backend.user_service().get(on_phone, "me")
    assert backend.user_service().get(_caller_of(backend, laptop.access_token), "me")
    # The first logout's entry outlived every token it could concern: dropped by the second.
    assert list(backend.users.get(user.id).revoked_sessions) == [on_phone.family_id]


def _caller_of(backend: InMemoryBackend, access_token: str) -> Caller:
    """What the authorizer makes of a token's claims (read unverified: the clock here runs ahead
    of the real time, which PyJWT checks ``iat`` against)."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    return Caller(
        user_id=claims["sub"],
        roles=frozenset(claims["roles"]),
        session_generation=claims["gen"],
        family_id=claims["sid"],
        auth_time=claims["auth_time"],
        amr=tuple(claims["amr"]),
    )


def test_given_a_password_change_when_refreshing_an_earlier_session_then_refused(
    backend: InMemoryBackend, user: User
) -> None:
    earlier = _login(backend, user)
    backend.clock.advance(timedelta(seconds=1))
    backend.user_service().update(
        backend.caller(user),
        "me",
        CHANGE_PASSWORD,
    )

    assert _refresh_fails(backend, earlier.refresh_token)
    backend.clock.advance(timedelta(seconds=1))
    later = _login(backend, user, NEW_PASSWORD)
    assert not _refresh_fails(backend, later.refresh_token)


@pytest.mark.parametrize("gone", ["deleted", "disabled"])
def test_given_a_deleted_or_disabled_user_when_refreshing_then_refused(
    backend: InMemoryBackend, user: User, gone: str
) -> None:
    pair = _login(backend, user)
    admin = backend.caller(backend.register(email="admin@example.com", name="Admin"), admin=True)
    if gone == "deleted":
        backend.user_service().delete(admin, user.id)  # another user's: no reauthentication
    else:
        backend.admin_service().set_status(admin, user.id, UserStatus.DISABLED)

    assert _refresh_fails(backend, pair.refresh_token)


# ---------------------------------------------------------------- logout
def _logout(backend: InMemoryBackend, user: User, **request: object) -> None:
    backend.auth_service().logout(backend.caller(user), LogoutRequest.model_validate(request))


def test_given_two_sessions_when_logging_out_of_one_then_only_it_dies(
    backend: InMemoryBackend, user: User
) -> None:
    phone, laptop = _login(backend, user), _login(backend, user)

    _logout(backend, user, refresh_token=phone.refresh_token)

    assert _refresh_fails(backend, phone.refresh_token)
    assert not _refresh_fails(backend, laptop.refresh_token)


def test_given_all_when_logging_out_then_every_session_and_earlier_access_token_dies(
    backend: InMemoryBackend, user: User
) -> None:
    phone, laptop = _login(backend, user), _login(backend, user)
    earlier = backend.caller(user)
    backend.clock.advance(timedelta(seconds=1))

    _logout(backend, user, all=True)

    assert _refresh_fails(backend, phone.refresh_token)
    assert _refresh_fails(backend, laptop.refresh_token)
    with pytest.raises(AuthenticationFailed):
        backend.user_service().get(earlier, "me")


def test_given_someone_elses_refresh_token_when_logging_out_then_refused_and_it_lives(
    backend: InMemoryBackend, user: User
) -> None:
    bob = backend.register(email="bob@example.com", name="Bob")
    bobs = _login(backend, bob)

    with pytest.raises(AuthenticationFailed):
        _logout(backend, user, refresh_token=bobs.refresh_token)

    assert not _refresh_fails(backend, bobs.refresh_token)


def test_given_no_token_and_no_all_when_logging_out_then_the_request_is_refused() -> None:
    with pytest.raises(ValidationError, match="refresh_token is required unless all is true"):
        LogoutRequest.model_validate({})
