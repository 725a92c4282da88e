"""Stream record -> lifecycle event: every event type and edge case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stream_records import event_of_record
from domain.event_pipeline import without_secrets
from domain.events import RECONSTRUCTED_SOURCE, DetailType, PoisonRecord, lifecycle_event_id
from tests.support.stream_records import (
    assert_published_event_is_valid,
    created,
    poison,
    stream_record,
    user_image,
)


def _event(record: dict[str, Any]) -> Any:
    event = event_of_record(record)
    assert event is not None
    return event


def test_given_insert_when_mapped_then_user_created_with_public_fields_and_enrichment() -> None:
    record = stream_record("INSERT", new=user_image())
    record["dynamodb"]["NewImage"]["last_request_id"] = {"S": "req-42"}

    event = _event(record)

    assert event.detail_type is DetailType.USER_CREATED
    detail = json.loads(event.detail_json())
    assert detail["user"]["email"] == "ada@example.com"
    assert detail["email_domain"] == "example.com"
    assert detail["display_name"] == "Ada Lovelace"
    assert detail["account_age_days"] == 58  # 2026-01-01 12:00 -> 2026-03-01 09:30
    assert detail["correlation_id"] == "req-42"
    assert detail["occurred_at"] == "2026-03-01T09:30:00Z"
    assert detail["event_version"] == 1
    assert "changed_fields" not in detail


def test_given_any_event_when_serialised_then_no_hash_or_secret_appears() -> None:
    detail = _event(created()).detail_json()

    assert "password" not in detail
    assert "secrethash" not in detail
    assert "scrypt" not in detail


def test_given_same_record_when_mapped_twice_then_event_id_is_stable() -> None:
    record = created()

    assert _event(record).event_id == _event(json.loads(json.dumps(record))).event_id


def test_given_two_changes_of_one_user_when_mapped_then_event_ids_differ() -> None:
    first = stream_record("INSERT", new=user_image(), sequence_number="1")
    second = stream_record(
        "MODIFY", new=user_image(name="Ada King", version=2), old=user_image(), sequence_number="2"
    )

    assert _event(first).event_id != _event(second).event_id


def test_given_one_change_read_from_the_stream_and_rebuilt_from_the_table_then_one_event_id() -> (
    None
):
    change = user_image(name="Ada King", version=2)
    from_stream = stream_record("MODIFY", new=change, old=user_image(), sequence_number="4711")
    from_table = stream_record("MODIFY", new=change, sequence_number="table-USER#x-version-2")
    from_table["eventSource"] = RECONSTRUCTED_SOURCE

    assert _event(from_table).event_id == _event(from_stream).event_id
    assert lifecycle_event_id("UserUpdated", change["id"]["S"], 2) == _event(from_stream).event_id


def test_given_one_user_version_when_ids_derived_per_detail_type_then_they_differ() -> None:
    """A later security event (PasswordChanged) of the same change must not look like a
    duplicate of its UserUpdated."""
    ids = {lifecycle_event_id(kind, "u-1", 7) for kind in ("UserUpdated", "PasswordChanged")}

    assert len(ids) == 2
    assert lifecycle_event_id("UserUpdated", "u-1", 7) != lifecycle_event_id(
        "UserUpdated", "u-2", 7
    )


def test_given_email_change_when_mapped_then_updated_with_changed_field_and_old_value() -> None:
    old = user_image()
    new = user_image(email="ada@newmail.org", version=2, updated_at=datetime.now(UTC))

    event = _event(stream_record("MODIFY", new=new, old=old))

    assert event.detail_type is DetailType.USER_UPDATED
    detail = json.loads(event.detail_json())
    assert detail["changed_fields"] == ["email"]
    assert detail["previous"] == {"email": "ada@example.com"}
    assert detail["email_domain"] == "newmail.org"
    assert detail["user"]["version"] == 2


def test_given_role_change_when_mapped_then_updated_with_roles() -> None:
    old = user_image()
    new = user_image(roles=("user", "admin"), version=2)

    detail = json.loads(_event(stream_record("MODIFY", new=new, old=old)).detail_json())

    assert detail["changed_fields"] == ["roles"]
    assert detail["user"]["roles"] == ["user", "admin"]


def test_given_disable_when_mapped_then_updated_with_status() -> None:
    new = user_image(status="disabled", version=2)

    detail = json.loads(_event(stream_record("MODIFY", new=new, old=user_image())).detail_json())

    assert detail["changed_fields"] == ["status"]


def test_given_modify_of_login_state_only_when_mapped_then_dropped() -> None:
    old = user_image()
    new = user_image(version=2, updated_at=datetime.now(UTC))
    new["failed_logins"] = {"N": "3"}
    new["sessions_revoked_at"] = {"S": "2026-03-01T00:00:00Z"}
    new["password_hash"] = {"S": "scrypt$new"}

    assert event_of_record(stream_record("MODIFY", new=new, old=old)) is None


def test_given_remove_when_mapped_then_deleted_with_last_known_fields() -> None:
    old = user_image(name="Ada King", phone="+441234567890")

    event = _event(stream_record("REMOVE", old=old))

    assert event.detail_type is DetailType.USER_DELETED
    detail = json.loads(event.detail_json())
    assert detail["user"]["name"] == "Ada King"
    assert detail["user"]["phone"] == "+441234567890"


def test_given_non_user_item_when_mapped_then_dropped() -> None:
    record = stream_record("INSERT", new={"PK": {"S": "EMAIL#a@b.c"}, "SK": {"S": "EMAIL"}})

    assert event_of_record(record) is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (poison(), "NewImage is not a valid user"),
        (stream_record("INSERT", old=user_image()), "NewImage is missing"),
        (stream_record("REMOVE", new=user_image()), "OldImage is missing"),
        (stream_record("TRUNCATE", new=user_image()), "unknown eventName"),
        ({"eventName": "INSERT", "dynamodb": {}}, "no dynamodb.SequenceNumber"),
        (
            stream_record("INSERT", new={**user_image(), "email": {"X": "?"}}),
            "NewImage is not DynamoDB JSON",
        ),
    ],
)
def test_given_unmappable_record_when_mapped_then_poison_with_reason(
    record: dict[str, Any], reason: str
) -> None:
    with pytest.raises(PoisonRecord, match=reason):
        event_of_record(record)


def test_given_record_with_hash_when_made_safe_for_dlq_then_secret_attributes_are_gone() -> None:
    safe = without_secrets(stream_record("MODIFY", new=user_image(), old=user_image()))

    assert "password_hash" not in json.dumps(safe)
    assert safe["dynamodb"]["NewImage"]["email"] == {"S": "ada@example.com"}


def test_given_sub_second_creation_times_when_mapped_then_occurred_at_text_is_the_same() -> None:
    at = datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC)
    original = stream_record("INSERT", new=user_image(), sequence_number="9")
    original["dynamodb"]["ApproximateCreationDateTime"] = int(at.timestamp())
    reread = json.loads(json.dumps(original))
    reread["dynamodb"]["ApproximateCreationDateTime"] = at.timestamp() + 0.734

    texts = {json.loads(_event(r).detail_json())["occurred_at"] for r in (original, reread)}

    assert texts == {"2026-03-01T09:30:05Z"}


def test_given_a_repair_of_an_item_that_never_was_a_user_when_mapped_then_user_created() -> None:
    broken = {"PK": {"S": "USER#u-1"}, "SK": {"S": "PROFILE"}, "email": {"N": "5"}}
    repaired = user_image(version=2)

    event = _event(stream_record("MODIFY", new=repaired, old=broken))

    assert event.detail_type is DetailType.USER_CREATED
    detail = json.loads(event.detail_json())
    assert "previous" not in detail
    assert detail["user"]["version"] == 2


def test_given_modify_without_old_image_when_mapped_then_poison() -> None:
    with pytest.raises(PoisonRecord, match="OldImage is missing"):
        event_of_record(stream_record("MODIFY", new=user_image(version=2)))


def test_given_a_stand_in_record_from_the_table_when_mapped_then_marked_reconstructed() -> None:
    record = stream_record("MODIFY", new=user_image(version=3), sequence_number="table-x-3")
    record["eventSource"] = RECONSTRUCTED_SOURCE

    detail = json.loads(_event(record).detail_json())

    assert detail["reconstructed"] is True
    # What changed is unknown: nothing is claimed, so a rule on changed_fields never fires.
    assert "changed_fields" not in detail
    assert "previous" not in detail
    assert json.loads(_event(created()).detail_json())["reconstructed"] is False


def test_given_a_metadata_change_when_mapped_then_changed_fields_name_its_keys() -> None:
    old = user_image(metadata={"plan": "free", "crm": 1, "kept": True}, app_metadata={"t": 1})
    new = user_image(metadata={"plan": "pro", "kept": True, "added": [1]}, app_metadata={"t": 1})

    event = _event(stream_record("MODIFY", new=new, old=old))

    detail = json.loads(event.detail_json())
    assert detail["changed_fields"] == ["metadata.added", "metadata.crm", "metadata.plan"]
    assert detail["previous"] == {
        "metadata.added": None,
        "metadata.crm": 1,
        "metadata.plan": "free",
    }
    assert detail["user"]["metadata"] == {"plan": "pro", "kept": True, "added": [1]}
    assert detail["user"]["app_metadata"] == {"t": 1}
    assert_published_event_is_valid(
        {
            "version": "0",
            "id": "1",
            "detail-type": str(event.detail_type),
            "source": "userflow.users",
            "time": "2026-03-01T09:30:00Z",
            "detail": detail,
        }
    )


@pytest.mark.parametrize(("stored", "origin"), [(None, "registration"), ("import", "import")])
def test_given_an_insert_when_mapped_then_user_created_says_where_the_user_came_from(
    stored: str | None, origin: str
) -> None:
    image = user_image()
    if stored:
        image["origin"] = {"S": stored}

    detail = json.loads(_event(stream_record("INSERT", new=image)).detail_json())

    assert detail["origin"] == origin
