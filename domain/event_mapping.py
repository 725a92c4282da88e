"""Every event a table change means: its lifecycle event (``domain.events.event_for``) and the
security events stamped with it (``domain.security_events``), in that order.

A stamp is this change's when it carries the change's new version (a write that keeps the version,
login bookkeeping, repeats the stamps of an earlier change and publishes none of them). A change
rebuilt from the table by a replay publishes again every stamp made since the replay's window
began, each under the id it had: subscribers that saw it drop it as a duplicate.
"""

from __future__ import annotations

from typing import Any

from domain.event_details import DETAIL_MODELS, EventDetail
from domain.events import (
    ChangeKind,
    DetailType,
    LifecycleEvent,
    SecurityStamp,
    TableChange,
    event_for,
    lifecycle_event_id,
)
from domain.security_events import SECURITY_DETAIL_MODELS
from domain.users import User

ALL_DETAIL_MODELS: dict[DetailType, type[EventDetail]] = DETAIL_MODELS | SECURITY_DETAIL_MODELS


def _stamps_of(change: TableChange) -> list[SecurityStamp]:
    new = change.new
    if change.kind is not ChangeKind.MODIFY or new is None:
        return []
    if change.reconstructed:
        since = change.since
        return [s for s in change.stamps if since is None or s.at >= since]
    if change.old is not None and change.old.version >= new.version:
        return []
    return [s for s in change.stamps if s.version == new.version]


def security_event(change: TableChange, user: User, stamp: SecurityStamp) -> LifecycleEvent:
    occurred_at = (
        stamp.at.replace(microsecond=0)
        if change.reconstructed or stamp.version != user.version
        else change.occurred_at
    )
    values: dict[str, Any] = {
        "event_id": lifecycle_event_id(stamp.detail_type, user.id, stamp.version),
        "occurred_at": occurred_at,
        "user": user,
        "actor": stamp.actor,
        "email_domain": user.email.rpartition("@")[2],
        "display_name": user.name,
        "account_age_days": max(0, (occurred_at - user.created_at).days),
        "correlation_id": change.request_id if stamp.version == user.version else None,
        "reconstructed": change.reconstructed,
        **stamp.fields,
    }
    detail = SECURITY_DETAIL_MODELS[stamp.detail_type].model_validate(values)
    return LifecycleEvent(stamp.detail_type, detail, change.record_id)


def events_for(change: TableChange) -> list[LifecycleEvent]:
    """What subscribers hear of one change, possibly nothing."""
    lifecycle = event_for(change)
    events = [] if lifecycle is None else [lifecycle]
    if change.new is not None:
        events += [security_event(change, change.new, s) for s in _stamps_of(change)]
    return events
