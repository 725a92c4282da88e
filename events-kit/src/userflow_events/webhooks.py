"""Checking a Userflow webhook delivery (Standard Webhooks: ``webhook-id``,
``webhook-timestamp``, ``webhook-signature``) with the endpoint's secret (``whsec_...``, shown
once by ``userflow webhooks add``), then reading its event."""

from __future__ import annotations

from collections.abc import Mapping

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from userflow_events.models import Event, parse_event

__all__ = ["WebhookVerificationError", "verified_event"]


def verified_event(secret: str, body: bytes | str, headers: Mapping[str, str]) -> Event:
    """The delivered event, once its signature and timestamp (at most five minutes off) check
    out; WebhookVerificationError otherwise. Pass the body exactly as received. A delivery may
    arrive more than once (same ``webhook-id``, which is the event's ``event_id``): fold it
    (``userflow_events.fold``) or de-duplicate on that id."""
    Webhook(secret).verify(body, dict(headers), json_parse=False)
    return parse_event(body)
