"""MFA in the lifecycle pipeline: turning it on or off is a UserUpdated naming ``mfa_enabled``
(with its MfaEnabled/MfaDisabled security event:
tests/unit/pipeline/test_security_events_mapping.py); enrolments and new recovery codes publish
nothing (a used code is RecoveryCodeUsed, stamped by its own write:
tests/integration/adapters/test_mfa_storage.py); no event and no dead-lettered record carries a
sealed secret or a code's hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.stream_records import event_of_record
from adapters.user_items import account_attributes, user_key
from domain.event_pipeline import without_secrets
from domain.events import DetailType
from domain.mfa_state import MfaSecrets
from domain.users import User, UserAccount
from tests.support.stream_records import (
    CREATED_AT,
    as_published,
    assert_published_event_is_valid,
    stream_record,
)

SEALED = "v1.0123abcd.c2VhbGVkLXRvdHAtc2VjcmV0LWJ5dGVz"
CODE_HASHES = frozenset({"9f" * 32, "a0" * 32})


def _image(*, on: bool, version: int, mfa: MfaSecrets | None = None) -> dict[str, Any]:
    user = User(
        id="u-1",
        email="ada@example.com",
        name="Ada",
        mfa_enabled=on,
        version=version,
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )
    account = UserAccount(user=user, password_hash="$argon2id$x", mfa=mfa or MfaSecrets())
    return {**user_key("u-1"), **account_attributes(account)}


ENABLED = MfaSecrets(totp_secret=SEALED, totp_last_step=59_000_000, recovery_codes=CODE_HASHES)


def test_given_mfa_turned_on_when_mapped_then_updated_names_mfa_enabled_and_nothing_secret() -> (
    None
):
    pending = MfaSecrets(totp_pending=SEALED, totp_pending_expires_at=datetime.now(UTC))
    record = stream_record(
        "MODIFY",
        new=_image(on=True, version=2, mfa=ENABLED),
        old=_image(on=False, version=1, mfa=pending),
    )

    event = event_of_record(record)

    assert event is not None
    assert event.detail_type is DetailType.USER_UPDATED
    detail = json.loads(event.detail_json())
    assert detail["changed_fields"] == ["mfa_enabled"]
    assert detail["previous"] == {"mfa_enabled": False}
    assert detail["user"]["mfa_enabled"] is True
    text = event.detail_json()
    assert SEALED not in text
    assert not any(h in text for h in CODE_HASHES)
    assert "totp" not in text
    assert "recovery" not in text
    assert_published_event_is_valid(as_published(event.detail_type, text))


def test_given_mfa_turned_off_when_mapped_then_updated_names_mfa_enabled() -> None:
    record = stream_record(
        "MODIFY", new=_image(on=False, version=3), old=_image(on=True, version=2, mfa=ENABLED)
    )

    event = event_of_record(record)

    assert event is not None
    assert json.loads(event.detail_json())["changed_fields"] == ["mfa_enabled"]


def test_given_only_mfa_bookkeeping_changes_when_mapped_then_nothing_is_published() -> None:
    used = ENABLED.model_copy(
        update={"totp_last_step": 59_000_001, "recovery_codes": frozenset({"9f" * 32})}
    )
    pending = MfaSecrets(totp_pending=SEALED, totp_pending_expires_at=datetime.now(UTC))
    for old, new in [
        (_image(on=True, version=2, mfa=ENABLED), _image(on=True, version=2, mfa=used)),
        (_image(on=False, version=1), _image(on=False, version=1, mfa=pending)),
    ]:
        assert event_of_record(stream_record("MODIFY", new=new, old=old)) is None


def test_given_a_record_with_mfa_state_when_made_safe_for_a_dlq_then_no_mfa_secret_is_left() -> (
    None
):
    record = stream_record(
        "MODIFY", new=_image(on=True, version=2, mfa=ENABLED), old=_image(on=True, version=2)
    )

    safe = json.dumps(without_secrets(record))

    assert SEALED not in safe
    assert not any(h in safe for h in CODE_HASHES)
    assert '"mfa_enabled"' in safe
