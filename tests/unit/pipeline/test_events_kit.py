"""The typed event kit (events-kit/) against the committed schemas and the events the service
really publishes: every detail-type has a model with the schema's fields, every published event
parses, the fold rule rebuilds state from duplicated, shuffled deliveries, and a signed delivery
is checked with the standardwebhooks library."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from userflow_events import DETAILS, Fold, WebhookVerificationError, parse_event, verified_event

from adapters.security_stamps import stamp_values
from adapters.stream_records import events_of_record
from domain.actors import Actor
from domain.event_types import DetailType, stamp
from tests.support.stream_records import (
    SCHEMA_DIR,
    as_published,
    assert_published_event_is_valid,
    stream_record,
    user_image,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
FIELDS: dict[DetailType, dict[str, Any]] = {
    DetailType.PASSWORD_CHANGED: {"reason": "reset"},
    DetailType.EMAIL_CHANGED: {"old_email": "a@example.com", "new_email": "ada@example.com"},
    DetailType.SESSIONS_REVOKED: {"scope": "all", "reason": "admin"},
    DetailType.ACCOUNT_LOCKED: {"locked_until": AT + timedelta(seconds=30)},
    DetailType.ROLE_GRANTED: {"roles": ["admin"]},
    DetailType.ROLE_REVOKED: {"roles": ["admin"]},
    DetailType.RECOVERY_CODE_USED: {"remaining": 9},
}


def _published_of_every_type() -> dict[str, dict[str, Any]]:
    """One event the service publishes of each detail-type."""
    security = [t for t in DetailType if t not in ("UserCreated", "UserUpdated", "UserDeleted")]
    stamps = [stamp(t, 2, AT, Actor.system(), **FIELDS.get(t, {})) for t in security]
    new = {**user_image(name="Ada King", version=2), **stamp_values(stamps)}
    records = [
        stream_record("INSERT", new=user_image()),
        stream_record("MODIFY", new=new, old=user_image()),
        stream_record("REMOVE", old=user_image(version=3)),
    ]
    events = [e for record in records for e in events_of_record(record)]
    return {str(e.detail_type): as_published(str(e.detail_type), e.detail_json()) for e in events}


def test_given_the_committed_schemas_then_the_kit_has_every_type_with_the_schemas_fields() -> None:
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text())
        kind = schema["title"]
        detail_schema = schema["$defs"][f"{kind}Detail"]
        model = DETAILS[kind]
        assert set(model.model_fields) == set(detail_schema["properties"]), kind
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert required == set(detail_schema["required"]), kind
        user_schema = schema["$defs"]["User"]
        assert set(DETAILS[kind].model_fields["user"].annotation.model_fields) == set(  # type: ignore[union-attr]
            user_schema["properties"]
        )
    assert set(DETAILS) == {str(t) for t in DetailType}


def test_given_an_event_of_every_type_as_published_then_it_parses_into_its_model() -> None:
    published = _published_of_every_type()
    assert set(published) == {str(t) for t in DetailType}

    for kind, whole in published.items():
        assert_published_event_is_valid(whole)
        event = parse_event(json.dumps(whole))
        assert type(event.detail) is DETAILS[kind]
        assert event.detail.event_id == whole["detail"]["event_id"]
        assert event.detail.actor.type == "system"


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"detail-type": "UserHacked"}',
        '{"detail-type": "UserCreated", "detail": {}}',
        "\ud800",
    ],
)
def test_given_something_that_is_not_an_event_then_value_error(body: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is one, by design
        parse_event(body)


def test_given_a_history_delivered_duplicated_and_shuffled_then_the_fold_gives_the_last_state() -> (
    None
):
    versions = [user_image(version=v, name=f"Ada {v}") for v in range(1, 5)]
    records = [stream_record("INSERT", new=versions[0])]
    records += [
        stream_record("MODIFY", new=new, old=old) for old, new in itertools.pairwise(versions)
    ]
    events = [
        parse_event(as_published(str(e.detail_type), e.detail_json()))
        for record in records
        for e in events_of_record(record)
    ]
    deliveries = events * 2
    random.Random(7).shuffle(deliveries)

    fold = Fold()
    fold.apply_all(deliveries)

    assert fold.users["u-1"].name == "Ada 4"
    deleted = events_of_record(stream_record("REMOVE", old=user_image(version=5)))
    fold.apply(parse_event(as_published("UserDeleted", deleted[0].detail_json())))
    assert fold.users == {}
    assert not fold.apply(events[1])  # late, older: dropped


def test_given_a_signed_delivery_then_verified_and_a_tampered_one_refused() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps(_published_of_every_type()["PasswordChanged"]).encode()
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg-1", now, body)
    headers = {
        "webhook-id": "msg-1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }

    assert verified_event(secret, body, headers).detail_type == "PasswordChanged"
    with pytest.raises(WebhookVerificationError):
        verified_event(secret, body.replace(b"reset", b"chang"), headers)
    with pytest.raises(WebhookVerificationError):
        verified_event("whsec_" + "b3RoZXIgc2VjcmV0IGZvciB0ZXN0cw==", body, headers)
