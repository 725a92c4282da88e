"""The committed JSON Schemas are the ones the event models generate, and published events fit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stream_records import event_of_record
from domain.events import RECONSTRUCTED_SOURCE
from scripts.generate_event_schemas import rendered
from tests.support.stream_records import (
    assert_published_event_is_valid,
    created,
    stream_record,
    user_image,
)


def test_given_event_models_when_schemas_rendered_then_committed_files_match() -> None:
    for path, text in rendered().items():
        assert path.exists(), (
            f"{path.name} is missing: run python -m scripts.generate_event_schemas"
        )
        assert path.read_text() == text, (
            f"{path.name} drifted: run python -m scripts.generate_event_schemas"
        )


def _as_eventbridge_event(record: dict[str, Any]) -> dict[str, Any]:
    event = event_of_record(record)
    assert event is not None
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": str(event.detail_type),
        "source": "userflow.users",
        "account": "123456789012",
        "time": "2026-03-01T09:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(event.detail_json()),
    }


@pytest.mark.parametrize(
    "record",
    [
        created(phone="+441234567890", locale="en-GB", timezone="Europe/London"),
        stream_record(
            "MODIFY",
            new=user_image(email="ada@newmail.org", roles=("user", "admin"), version=3),
            old=user_image(),
        ),
        stream_record("REMOVE", old=user_image(updated_at=datetime(2026, 2, 1, tzinfo=UTC))),
    ],
    ids=["created", "updated", "deleted"],
)
def test_given_each_event_type_when_published_then_it_validates_against_its_schema(
    record: dict[str, Any],
) -> None:
    assert_published_event_is_valid(_as_eventbridge_event(record))


def test_given_event_with_extra_user_attribute_when_validated_then_schema_rejects_it() -> None:
    event = _as_eventbridge_event(created())
    event["detail"]["user"]["password_hash"] = "x"

    with pytest.raises(Exception, match="Additional properties"):
        assert_published_event_is_valid(event)


def _reconstructed_update() -> dict[str, Any]:
    record = stream_record("MODIFY", new=user_image(version=3), sequence_number="table-x-3")
    record["eventSource"] = RECONSTRUCTED_SOURCE
    return _as_eventbridge_event(record)


def test_given_a_rebuilt_update_when_published_then_it_validates_without_changed_fields() -> None:
    event = _reconstructed_update()

    assert "changed_fields" not in event["detail"]
    assert_published_event_is_valid(event)


def test_given_a_rebuilt_update_claiming_changed_fields_when_validated_then_refused() -> None:
    event = _reconstructed_update()
    event["detail"]["changed_fields"] = ["email"]

    with pytest.raises(Exception, match="should not be valid"):
        assert_published_event_is_valid(event)


def test_given_a_live_update_without_changed_fields_when_validated_then_refused() -> None:
    event = _as_eventbridge_event(
        stream_record("MODIFY", new=user_image(name="Ada King", version=2), old=user_image())
    )
    del event["detail"]["changed_fields"]

    with pytest.raises(Exception, match="changed_fields"):
        assert_published_event_is_valid(event)


def test_given_the_committed_schemas_then_the_templates_registry_holds_each_in_draft_4() -> None:
    """The schema registry in template.yaml is generated from schemas/ (a drift check), and every
    copy is valid JSON Schema draft 4 that still accepts what the committed schema accepts."""
    from jsonschema import Draft4Validator  # type: ignore[import-untyped]

    from scripts import generate_schema_registry, sam_template

    text = sam_template.TEMPLATE.read_text()
    assert generate_schema_registry.render(text) == text, (
        "run python -m scripts.generate_schema_registry"
    )
    resources = sam_template.parse(text)["Resources"]
    copies = {
        r["Properties"]["SchemaName"]: json.loads(r["Properties"]["Content"])
        for r in resources.values()
        if r["Type"] == "AWS::EventSchemas::Schema"
    }
    assert set(copies) == {f"userflow.users@{path.stem}" for path in rendered()}
    for copy in copies.values():
        Draft4Validator.check_schema(copy)
    Draft4Validator(copies["userflow.users@UserCreated"]).validate(_as_eventbridge_event(created()))
