"""Typed Userflow user events for Python subscribers: models (``parse_event``), the fold rule
(``Fold``) and the webhook signature check (``verified_event``)."""

from userflow_events.fold import Fold
from userflow_events.models import DETAILS, EVENTS, Actor, Detail, Event, User, parse_event
from userflow_events.webhooks import WebhookVerificationError, verified_event

__all__ = [
    "DETAILS",
    "EVENTS",
    "Actor",
    "Detail",
    "Event",
    "Fold",
    "User",
    "WebhookVerificationError",
    "parse_event",
    "verified_event",
]
