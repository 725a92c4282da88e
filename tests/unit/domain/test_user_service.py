"""The rules of ``UserService`` on in-memory ports (``tests/support/fakes.py``); moto tests the
adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    EmailAlreadyExists,
    InvalidInput,
    PasswordPolicyViolation,
    UserNotFound,
    VersionConflict,
    WriteContention,
)
from domain.password_guard import PasswordGuard, Verdict
from domain.users import Role, UserPatch, UserStatus
from domain.write_races import WRITE_ATTEMPTS
from tests.support.in_memory_backend import PASSWORD, Clock, InMemoryBackend

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


def _patch(**fields: object) -> UserPatch:
    return UserPatch.model_validate(fields)


# ---------------------------------------------------------------- registration
def test_given_a_registration_when_registered_then_a_first_version_with_a_verifiable_hash(
    backend: InMemoryBackend,
) -> None:
    user = backend.register(email=" Ann@Example.COM ")

    account = backend.users.get(user.id)
    assert (user.email, user.version, user.roles, user.status) == (
        "ann@example.com",
        1,
        (Role.USER,),
        UserStatus.ACTIVE,
    )
    assert user.created_at == user.updated_at == NOW
    assert account.user == user
    assert backend.hasher.verify(PASSWORD, account.password_hash)
    assert PASSWORD not in account.password_hash


def test_given_a_registered_email_when_registering_it_again_in_other_case_then_conflict(
    backend: InMemoryBackend,
) -> None:
    first = backend.register(email="ann@example.com")

    with pytest.raises(EmailAlreadyExists):
        backend.register(email="ANN@example.com", name="Impostor")

    assert list(backend.users.items) == [first.id]


@pytest.mark.parametrize("password", ["ann@example.com", "Ann@Example.com"])
def test_given_a_password_against_the_policy_when_registering_then_nothing_is_stored(
    backend: InMemoryBackend, password: str
) -> None:
    with pytest.raises(PasswordPolicyViolation):
        backend.register(email="ann@example.com", password=password)

    assert backend.users.items == {}


def test_given_a_replayed_registration_when_checked_then_only_the_same_password_matches(
    backend: InMemoryBackend,
) -> None:
    service = backend.user_service()
    user = backend.register()

    assert service.check_replayed_password(user.id, PASSWORD).accepted
    assert not service.check_replayed_password(user.id, "another passphrase").accepted


def test_given_a_replay_of_a_deleted_registration_when_checked_then_it_is_accepted(
    backend: InMemoryBackend,
) -> None:
    service = backend.user_service()
    user = backend.register()
    service.delete(backend.caller(user), user.id, current_password=PASSWORD)

    assert service.check_replayed_password(user.id, "any passphrase at all").accepted


# ---------------------------------------------------------------- who may read what
def test_given_a_user_when_reading_self_by_id_or_me_then_the_record(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    service = backend.user_service()

    assert service.get(backend.caller(user), "me") == service.get(backend.caller(user), user.id)


def test_given_a_user_when_reading_someone_else_then_access_denied(
    backend: InMemoryBackend,
) -> None:
    ann, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    with pytest.raises(AccessDenied):
        backend.user_service().get(backend.caller(ann), bob.id)


def test_given_an_admin_when_reading_anyone_then_the_record_or_not_found(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")
    service = backend.user_service()

    assert service.get(backend.caller(admin, admin=True), bob.id) == bob
    with pytest.raises(UserNotFound):
        service.get(backend.caller(admin, admin=True), "no-such-user")


def test_given_a_deleted_caller_when_their_token_is_used_then_the_session_has_ended(
    backend: InMemoryBackend,
) -> None:
    admin = backend.register()
    caller = backend.caller(admin, admin=True)
    backend.user_service().delete(caller, admin.id, current_password=PASSWORD)

    with pytest.raises(AuthenticationFailed):
        backend.admin_service().list_users(caller, 10, None)


# ---------------------------------------------------------------- updates
def test_given_a_patch_when_applied_then_fields_change_and_the_version_increments(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    backend.clock.advance(timedelta(minutes=1))

    updated = backend.user_service().update(
        backend.caller(user), "me", _patch(name="Ann Example", locale="en-GB"), if_match=1
    )

    assert (updated.name, updated.locale, updated.version) == ("Ann Example", "en-GB", 2)
    assert updated.updated_at == NOW + timedelta(minutes=1)
    assert backend.users.get(user.id).user == updated


def test_given_a_patch_that_changes_nothing_when_applied_then_the_version_stays(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    unchanged = backend.user_service().update(backend.caller(user), "me", _patch(name="Ann"))

    assert unchanged == user


def test_given_a_stale_if_match_when_patching_then_conflict_and_nothing_changes(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    service = backend.user_service()
    service.update(backend.caller(user), "me", _patch(name="Ann B"))

    with pytest.raises(VersionConflict):
        service.update(backend.caller(user), "me", _patch(name="Ann C"), if_match=1)

    assert backend.users.get(user.id).user.name == "Ann B"


def test_given_every_read_stale_when_patching_then_contention_and_no_lost_update(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = backend.register()
    read_before = backend.users.get(user.id)
    backend.user_service().update(backend.caller(user), "me", _patch(name="Written meanwhile"))
    monkeypatch.setattr(backend.users, "get", lambda user_id: read_before)

    with pytest.raises(WriteContention):
        backend.user_service().update(backend.caller(user), "me", _patch(name="Lost update"))

    assert backend.users.items[user.id].account.user.name == "Written meanwhile"


@pytest.mark.parametrize("field", ["email", "name"])
def test_given_a_required_field_sent_as_null_when_patching_then_invalid_input(
    backend: InMemoryBackend, field: str
) -> None:
    user = backend.register()

    with pytest.raises(InvalidInput, match=field):
        backend.user_service().update(backend.caller(user), "me", _patch(**{field: None}))


def test_given_an_email_change_when_applied_then_the_old_address_is_free_again(
    backend: InMemoryBackend,
) -> None:
    user = backend.register(email="ann@example.com")

    updated = backend.user_service().update(
        backend.caller(user), "me", _patch(email="Ann@New.example", current_password=PASSWORD)
    )

    assert updated.email == "ann@new.example"
    assert backend.users.find_by_email("ann@new.example") == backend.users.get(user.id)
    assert backend.users.find_by_email("ann@example.com") is None
    assert backend.register(email="ann@example.com", name="Newcomer").email == "ann@example.com"


def test_given_a_taken_email_when_patching_to_it_then_conflict_and_nothing_changes(
    backend: InMemoryBackend,
) -> None:
    ann, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    with pytest.raises(EmailAlreadyExists):
        backend.user_service().update(
            backend.caller(ann),
            "me",
            _patch(email="bob@example.com", name="Ann B", current_password=PASSWORD),
        )

    assert backend.users.get(ann.id).user == ann
    assert backend.users.find_by_email("bob@example.com") == backend.users.get(bob.id)


def test_given_another_users_record_when_patching_then_access_denied_and_unchanged(
    backend: InMemoryBackend,
) -> None:
    ann, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    with pytest.raises(AccessDenied):
        backend.user_service().update(backend.caller(ann), bob.id, _patch(name="Hijacked"))

    assert backend.users.get(bob.id).user == bob


# ---------------------------------------------------------------- password changes
@pytest.mark.parametrize("current", [None, "not the password"])
def test_given_an_own_password_change_without_the_current_password_then_access_denied(
    backend: InMemoryBackend, current: str | None
) -> None:
    user = backend.register()
    hash_before = backend.users.get(user.id).password_hash

    with pytest.raises(AccessDenied):
        backend.user_service().update(
            backend.caller(user), "me", _patch(password=NEW_PASSWORD, current_password=current)
        )

    assert backend.users.get(user.id).password_hash == hash_before


def test_given_an_own_password_change_when_applied_then_earlier_tokens_stop_working(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    earlier = backend.caller(user)
    backend.clock.advance(timedelta(seconds=5))
    service = backend.user_service()

    service.update(earlier, "me", _patch(password=NEW_PASSWORD, current_password=PASSWORD))

    account = backend.users.get(user.id)
    assert backend.hasher.verify(NEW_PASSWORD, account.password_hash)
    assert account.sessions_revoked_at == backend.clock.now
    with pytest.raises(AuthenticationFailed):
        service.get(earlier, "me")
    assert service.get(backend.caller(user), "me").version == 2


def test_given_an_admin_when_resetting_someone_elses_password_then_no_current_password_needed(
    backend: InMemoryBackend,
) -> None:
    admin, bob = backend.register(), backend.register(email="bob@example.com", name="Bob")

    backend.user_service().update(
        backend.caller(admin, admin=True), bob.id, _patch(password=NEW_PASSWORD)
    )

    assert backend.hasher.verify(NEW_PASSWORD, backend.users.get(bob.id).password_hash)


def test_given_a_new_password_equal_to_the_new_email_when_patching_then_policy_violation(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    with pytest.raises(PasswordPolicyViolation):
        backend.user_service().update(
            backend.caller(user),
            "me",
            _patch(
                email="ann.b@example.com", password="ann.b@example.com", current_password=PASSWORD
            ),
        )


@pytest.mark.parametrize("current_password", [None, "not the password"])
def test_given_own_email_change_without_the_current_password_then_denied_and_unchanged(
    backend: InMemoryBackend, current_password: str | None
) -> None:
    """A stolen access token alone must not move the account to an address that would then
    receive its reset link."""
    user = backend.register(email="ann@example.com")

    with pytest.raises(AccessDenied):
        backend.user_service().update(
            backend.caller(user),
            "me",
            _patch(email="thief@example.com", current_password=current_password),
        )

    assert backend.users.get(user.id).user.email == "ann@example.com"


def test_given_an_admin_changing_another_users_email_then_no_password_is_asked(
    backend: InMemoryBackend,
) -> None:
    admin = backend.register(email="root@example.com")
    ann = backend.register(email="ann@example.com", name="Ann")

    updated = backend.user_service().update(
        backend.caller(admin, admin=True), ann.id, _patch(email="ann@elsewhere.example")
    )

    assert updated.email == "ann@elsewhere.example"


def test_given_a_parallel_burst_locked_the_account_when_the_right_password_proves_then_locked(
    backend: InMemoryBackend,
) -> None:
    """Every request of a burst read the account before any guess ran: the one right guess
    must not count once the wrong ones locked the account (as for login)."""
    user = backend.register()
    guard = PasswordGuard(backend.login_state, backend.hasher, clock=backend.clock)
    read_before_the_burst = backend.users.get(user.id)
    for guess in range(guard.policy.free_failures):
        guard.check(read_before_the_burst, f"wrong guess {guess}")

    assert guard.check(read_before_the_burst, PASSWORD).accepted  # what check alone would say
    assert guard.prove(read_before_the_burst, PASSWORD).verdict is Verdict.LOCKED


def _racing_writer(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, races: int
) -> list[int]:
    """Before each of the next ``races`` saves another writer renames the user first, as a
    concurrent request would between this one's read and its write."""
    original = backend.users.save
    saves: list[int] = []

    def save(updated: Any, previous: Any, *args: Any, **kwargs: Any) -> None:
        saves.append(1)
        if len(saves) <= races:
            current = backend.users.get(previous.user.id)
            bumped = current.user.model_copy(
                update={"name": f"Other {len(saves)}", "version": current.user.version + 1}
            )
            original(current.model_copy(update={"user": bumped}), current)
        original(updated, previous, *args, **kwargs)

    monkeypatch.setattr(backend.users, "save", save)
    return saves


def test_given_a_concurrent_writer_when_patching_without_if_match_then_redone_on_a_fresh_read(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = backend.register()
    saves = _racing_writer(backend, monkeypatch, races=1)

    updated = backend.user_service().update(backend.caller(user), "me", _patch(locale="en-GB"))

    assert (updated.locale, updated.name, len(saves)) == ("en-GB", "Other 1", 2)


def test_given_a_concurrent_writer_when_patching_with_if_match_then_version_conflict(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = backend.register()
    _racing_writer(backend, monkeypatch, races=1)

    with pytest.raises(VersionConflict):
        backend.user_service().update(
            backend.caller(user), "me", _patch(locale="en-GB"), if_match=user.version
        )


def test_given_writers_that_keep_winning_when_disabling_then_write_contention_not_conflict(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, ann = backend.register(), backend.register(email="bob@example.com", name="Bob")
    saves = _racing_writer(backend, monkeypatch, races=WRITE_ATTEMPTS)

    with pytest.raises(WriteContention):
        backend.admin_service().set_status(
            backend.caller(admin, admin=True), ann.id, UserStatus.DISABLED
        )

    assert len(saves) == WRITE_ATTEMPTS
