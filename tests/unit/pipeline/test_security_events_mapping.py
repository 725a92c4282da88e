"""Stream record -> security events: a stamp is published by the change that made it, once, and
again only by a replay from the table whose window it falls in (same id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.security_stamps import LAST_ACTOR, actor_value, stamp_values
from adapters.stream_records import REPLAY_SINCE, events_of_record
from domain.actors import Actor, ActorType, actor_of_caller
from domain.event_types import DetailType, SecurityStamp, stamp
from domain.events import RECONSTRUCTED_SOURCE, PoisonRecord, lifecycle_event_id
from domain.security_stamps import stamps_for_save
from domain.users import Role, User, UserAccount, UserStatus
from tests.support.stream_records import (
    CREATED_AT,
    as_published,
    assert_published_event_is_valid,
    stream_record,
    user_image,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ADMIN = Actor(type=ActorType.ADMIN, id="admin-1")


def _stamped(image: dict[str, Any], *stamps: SecurityStamp, actor: Actor = ADMIN) -> dict[str, Any]:
    return {**image, **stamp_values(stamps), LAST_ACTOR: actor_value(actor)}


def _published(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(str(e.detail_type), json.loads(e.detail_json())) for e in events_of_record(record)]


def _account(**changes: Any) -> UserAccount:
    fields = {"email": "ada@example.com", "created_at": CREATED_AT, "updated_at": CREATED_AT}
    user = User(id="u-1", name="Ada", **(fields | changes))
    return UserAccount(user=user, password_hash="scrypt$1$salt$old")


def test_given_a_lock_stamped_at_the_new_version_then_account_locked_by_the_system() -> None:
    until = AT + timedelta(seconds=30)
    locked = stamp(DetailType.ACCOUNT_LOCKED, 2, AT, Actor.system(), locked_until=until)
    record = stream_record(
        "MODIFY",
        new=_stamped(user_image(version=2), locked, actor=Actor.system()),
        old=user_image(version=1),
    )

    [(kind, detail)] = _published(record)

    assert kind == "AccountLocked"
    assert detail["actor"] == {"type": "system"}
    assert detail["locked_until"] == "2026-03-01T09:30:30Z"
    assert detail["event_id"] == lifecycle_event_id("AccountLocked", "u-1", 2)
    assert_published_event_is_valid(as_published(kind, detail))


def test_given_bookkeeping_that_keeps_the_version_then_earlier_stamps_are_not_published_again() -> (
    None
):
    locked = stamp(DetailType.ACCOUNT_LOCKED, 2, AT, Actor.system(), locked_until=AT)
    image = _stamped(user_image(version=2), locked)
    counted = {**image, "failed_logins": {"N": "7"}}

    assert _published(stream_record("MODIFY", new=counted, old=image)) == []


def test_given_a_public_change_with_stamps_then_user_updated_first_and_each_stamp_after() -> None:
    before = _account()
    after = before.model_copy(
        update={
            "user": before.user.model_copy(
                update={"roles": (Role.USER, Role.ADMIN), "version": 2, "updated_at": AT}
            )
        }
    ).with_sessions_revoked(AT)
    stamps = stamps_for_save(before, after, ADMIN)
    record = stream_record(
        "MODIFY",
        new=_stamped(user_image(roles=["user", "admin"], version=2), *stamps),
        old=user_image(),
    )

    published = _published(record)

    assert [kind for kind, _ in published] == ["UserUpdated", "SessionsRevoked", "RoleGranted"]
    assert published[2][1]["roles"] == ["admin"]
    assert published[1][1]["reason"] == "admin"
    assert {d["actor"]["id"] for _, d in published} == {"admin-1"}
    for kind, detail in published:
        assert_published_event_is_valid(as_published(kind, detail))


@pytest.mark.parametrize(
    ("changes", "reset", "expected"),
    [
        ({"password_hash": "scrypt$1$salt$new"}, False, {"PasswordChanged": {"reason": "change"}}),
        ({"password_hash": "scrypt$1$salt$new"}, True, {"PasswordChanged": {"reason": "reset"}}),
        ({"password_hash": "!unusable"}, False, {"PasswordChanged": {"reason": "removed"}}),
        ({"locked_until": None}, True, {"AccountUnlocked": {}}),
    ],
)
def test_given_an_account_change_when_saved_then_its_stamps(
    changes: dict[str, Any], reset: bool, expected: dict[str, Any]
) -> None:
    before = _account().model_copy(update={"locked_until": AT})
    after = before.model_copy(
        update={"user": before.user.model_copy(update={"version": 2}), **changes}
    )
    if "locked_until" not in changes:
        after = after.model_copy(update={"locked_until": AT})

    stamps = stamps_for_save(before, after, Actor.user("u-1"), reset=reset)

    assert {str(s.detail_type): dict(s.fields) for s in stamps} == expected


def test_given_a_rehash_without_a_new_version_then_no_stamp() -> None:
    """An import's lazy migration or a cost upgrade re-hashes the same password: no event."""
    before = _account()
    after = before.model_copy(update={"password_hash": "argon2$stronger"})

    assert stamps_for_save(before, after, Actor.system()) == []


@pytest.mark.parametrize(
    ("before", "after", "kinds"),
    [
        ({"email_verified": False}, {"email_verified": True}, ["EmailVerified"]),
        ({"status": UserStatus.ACTIVE}, {"status": UserStatus.DISABLED}, ["UserDisabled"]),
        ({"status": UserStatus.DISABLED}, {"status": UserStatus.ACTIVE}, ["UserEnabled"]),
        ({"mfa_enabled": False}, {"mfa_enabled": True}, ["MfaEnabled"]),
        ({"mfa_enabled": True}, {"mfa_enabled": False}, ["MfaDisabled"]),
        ({"passkey_count": 1}, {"passkey_count": 2}, ["PasskeyAdded"]),
        ({"passkey_count": 2}, {"passkey_count": 1}, ["PasskeyRemoved"]),
        ({"roles": (Role.USER, Role.ADMIN)}, {"roles": (Role.USER,)}, ["RoleRevoked"]),
        ({"email": "a@example.com"}, {"email": "b@example.com"}, ["EmailChanged"]),
    ],
)
def test_given_a_public_security_change_then_exactly_its_event(
    before: dict[str, Any], after: dict[str, Any], kinds: list[str]
) -> None:
    old = _account(**before)
    new = old.model_copy(update={"user": old.user.model_copy(update={**after, "version": 2})})

    assert [str(s.detail_type) for s in stamps_for_save(old, new, ADMIN)] == kinds


def test_given_a_replay_from_the_table_then_stamps_in_its_window_again_with_their_ids() -> None:
    """The stand-in of a user at version 5 whose password changed at 3 and who was locked at 5:
    a window from before 3 republishes both; one from after 3 only the lock."""
    changed = stamp(DetailType.PASSWORD_CHANGED, 3, AT, Actor.user("u-1"), reason="change")
    later = AT + timedelta(hours=1)
    locked = stamp(DetailType.ACCOUNT_LOCKED, 5, later, Actor.system(), locked_until=later)
    image = _stamped(user_image(version=5, updated_at=later), changed, locked)

    def replay(since: datetime) -> list[tuple[str, dict[str, Any]]]:
        record = stream_record("MODIFY", new=image, sequence_number="table-USER#u-1-version-5")
        record["eventSource"] = RECONSTRUCTED_SOURCE
        record["dynamodb"][REPLAY_SINCE] = since.timestamp()
        return _published(record)

    wide, narrow = replay(AT - timedelta(minutes=1)), replay(AT + timedelta(minutes=1))

    assert [k for k, _ in wide] == ["UserUpdated", "PasswordChanged", "AccountLocked"]
    assert [k for k, _ in narrow] == ["UserUpdated", "AccountLocked"]
    assert wide[1][1]["event_id"] == lifecycle_event_id("PasswordChanged", "u-1", 3)
    assert wide[1][1]["occurred_at"] == "2026-03-01T09:30:00Z"
    assert all(d["reconstructed"] for _, d in wide)


@pytest.mark.parametrize(
    "actor",
    [
        {"M": {"type": {"S": "god"}}},
        {"S": "admin"},
        {"M": {"type": {"S": "admin"}, "id": {"S": ""}}},
    ],
)
def test_given_an_item_whose_actor_is_not_one_then_the_record_is_poison(actor: Any) -> None:
    record = stream_record("INSERT", new={**user_image(), LAST_ACTOR: actor})

    with pytest.raises(PoisonRecord, match="last_actor"):
        events_of_record(record)


def test_given_an_item_without_an_actor_then_its_events_name_the_system() -> None:
    [(_, detail)] = _published(stream_record("INSERT", new=user_image()))

    assert detail["actor"] == {"type": "system"}


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (None, {"type": "user", "id": "u-1"}),
        ("u-1", {"type": "user", "id": "u-1"}),
        ("admin-9", {"type": "admin", "id": "admin-9"}),
    ],
)
def test_given_a_request_then_its_actor(caller: str | None, expected: dict[str, str]) -> None:
    assert actor_of_caller(caller, "u-1").model_dump() == expected
