"""A stack's signed webhook endpoints, as operators manage them (docs/events/webhooks.md).

An endpoint is registered only at a URL deliveries may reach (https on deployed stacks, every
address its host resolves to public); its Standard Webhooks signing secret lives in Secrets
Manager (WebhookSigningSecrets, a JSON object by endpoint id), never in the table, and is shown
once. A test delivery goes through WebhookQueue as any other, so it proves the whole path. The
re-drive of dead-lettered deliveries is userflow/dlq/webhook_replay.py's.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.events import EVENT_SOURCE
from domain.webhook_deliveries import Delivery
from domain.webhooks import TEST_EVENT_TYPE, Endpoint, EndpointStatus, UrlPolicy, event_types
from userflow.dlq.webhook_replay import WEBHOOK_QUEUE, endpoint_store
from userflow.stack import Stack

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, no secret
SIGNING_SECRETS = "WebhookSigningSecrets"

Secrets = dict[str, str]


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Registered:
    endpoint: Endpoint
    secret: str
    """Shown to the operator once: nothing can read it back but the delivery function."""


def register_endpoint(stack: Stack, url: str, wanted: Collection[str] | None) -> Registered:
    """Registers an endpoint for ``wanted`` detail-types (all when None or empty).
    Raises ``InvalidInput`` for an unknown type or a URL deliveries may not reach."""
    from adapters.webhook_delivery import checked_address

    types = event_types(list(wanted) if wanted else None)
    checked_address(UrlPolicy(local=stack.local), url)
    endpoint_id = uuid.uuid4().hex[:16]
    secret = new_secret()
    secrets_arn = _change_secrets(stack, lambda kept: kept | {endpoint_id: secret})
    endpoint = Endpoint(endpoint_id, url, types, secrets_arn, datetime.now(UTC))
    endpoint_store(stack).add(endpoint)
    return Registered(endpoint, secret)


def endpoints(stack: Stack) -> list[Endpoint]:
    return list(endpoint_store(stack).all())


def find_endpoint(stack: Stack, endpoint_id: str) -> Endpoint | None:
    return endpoint_store(stack).get(endpoint_id)


def queue_test_delivery(stack: Stack, endpoint: Endpoint) -> str:
    """Queues a ``WebhookTest`` event for ``endpoint`` alone; its id (the ``webhook-id``)."""
    message_id = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": message_id,
        "detail-type": TEST_EVENT_TYPE,
        "source": EVENT_SOURCE,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "detail": {"event_id": message_id, "endpoint_id": endpoint.id},
    }
    delivery = Delivery(endpoint.id, message_id, TEST_EVENT_TYPE, json.dumps(event))
    stack.client("sqs").send_message(
        QueueUrl=stack.physical_id(WEBHOOK_QUEUE), MessageBody=delivery.to_json()
    )
    return message_id


def enable_endpoint(stack: Stack, endpoint_id: str) -> None:
    endpoint_store(stack).set_status(endpoint_id, EndpointStatus.ACTIVE)


def remove_endpoint(stack: Stack, endpoint_id: str) -> None:
    """Deletes the endpoint, then its signing secret (a delivery still queued for it is
    dropped: the function finds no endpoint)."""
    endpoint_store(stack).remove(endpoint_id)
    _change_secrets(stack, lambda kept: {k: v for k, v in kept.items() if k != endpoint_id})


def _change_secrets(stack: Stack, change: Callable[[Secrets], Secrets]) -> str:
    """Applies ``change`` to the signing secrets; their ARN. An operator command at a time: two
    concurrent `add`s could lose one's secret."""
    manager = stack.client("secretsmanager")
    arn = stack.physical_id(SIGNING_SECRETS)
    kept: Secrets = json.loads(manager.get_secret_value(SecretId=arn)["SecretString"] or "{}")
    manager.put_secret_value(SecretId=arn, SecretString=json.dumps(change(kept)))
    return arn
