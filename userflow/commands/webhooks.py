"""`userflow webhooks add/list/test/replay/remove`: signed webhook endpoints
(docs/events/webhooks.md).

`add` checks the URL as deliveries will (https on deployed stacks, every address its host
resolves to public), stores the signing secret in Secrets Manager (WebhookSigningSecrets, by
endpoint id) and prints it once. `test`
queues a `WebhookTest` delivery to one endpoint; `replay` re-enables an endpoint and re-drives its
dead-lettered deliveries as `userflow dlq replay` does; `remove` deletes the endpoint and its
secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from userflow.errors import EXIT_FAILED, EXIT_USAGE, CommandError
from userflow.stack import Stack, add_stack_arguments, resolve_stack

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, no secret


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _endpoints(stack: Stack) -> Any:
    from userflow.dlq.webhook_replay import endpoint_store

    return endpoint_store(stack)


def add(stack: Stack, url: str, event_types: list[str] | None, out: Any) -> int:
    from adapters.webhook_delivery import checked_address
    from domain.errors import InvalidInput
    from domain.webhooks import Endpoint, UrlPolicy
    from domain.webhooks import event_types as wanted_types

    try:
        types = wanted_types(event_types)
        checked_address(UrlPolicy(local=stack.local), url)
    except InvalidInput as error:
        raise CommandError(f"refused: {error}", EXIT_USAGE) from None
    endpoint_id = uuid.uuid4().hex[:16]
    secret = new_secret()
    secrets_arn = _change_secrets(stack, lambda secrets: secrets | {endpoint_id: secret})
    endpoint = Endpoint(endpoint_id, url, types, secrets_arn, datetime.now(UTC))
    _endpoints(stack).add(endpoint)
    print(f"endpoint {endpoint_id} -> {url}", file=out)
    print(f"events: {', '.join(sorted(types)) or 'all'}", file=out)
    print(f"signing secret (shown once, keep it safe): {secret}", file=out)
    return 0


def list_endpoints(stack: Stack, out: Any, *, as_json: bool) -> int:
    for endpoint in _endpoints(stack).all():
        row = {
            "id": endpoint.id,
            "url": endpoint.url,
            "events": sorted(endpoint.event_types) or "all",
            "status": str(endpoint.status),
            "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        }
        if as_json:
            print(json.dumps(row), file=out)
        else:
            failing = f" failing since {row['failing_since']}" if row["failing_since"] else ""
            events = ",".join(row["events"]) if isinstance(row["events"], list) else "all"
            print(
                f"{endpoint.id}  {endpoint.status:<8} {endpoint.url}  [{events}]{failing}", file=out
            )
    return 0


def _endpoint(stack: Stack, endpoint_id: str) -> Any:
    endpoint = _endpoints(stack).get(endpoint_id)
    if endpoint is None:
        raise CommandError(f"no webhook endpoint {endpoint_id}", EXIT_FAILED)
    return endpoint


def test(stack: Stack, endpoint_id: str, out: Any) -> int:
    from domain.webhook_deliveries import Delivery
    from domain.webhooks import TEST_EVENT_TYPE

    endpoint = _endpoint(stack, endpoint_id)
    message_id = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": message_id,
        "detail-type": TEST_EVENT_TYPE,
        "source": "userflow.users",
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "detail": {"event_id": message_id, "endpoint_id": endpoint.id},
    }
    delivery = Delivery(endpoint.id, message_id, TEST_EVENT_TYPE, json.dumps(event))
    stack.client("sqs").send_message(
        QueueUrl=stack.physical_id("WebhookQueue"), MessageBody=delivery.to_json()
    )
    print(f"queued a {TEST_EVENT_TYPE} delivery {message_id} to {endpoint.url}", file=out)
    return 0


def replay(stack: Stack, endpoint_id: str, out: Any) -> int:
    """Enables the endpoint, then re-drives its dead-lettered deliveries as `userflow dlq replay`
    does (userflow/dlq/webhook_replay.py: one implementation); the queue's other messages stay.
    Its exit status is `dlq replay`'s: 1 while anything is left in the queue."""
    from domain.webhooks import EndpointStatus
    from userflow.commands.dlq import replay as replay_dead_letters
    from userflow.dlq.replay import Limits
    from userflow.dlq.webhook_replay import WEBHOOK_DEAD_LETTER_QUEUE

    _endpoint(stack, endpoint_id)
    _endpoints(stack).set_status(endpoint_id, EndpointStatus.ACTIVE)
    return replay_dead_letters(
        stack, False, WEBHOOK_DEAD_LETTER_QUEUE, out, limits=Limits(endpoint=endpoint_id)
    )


def remove(stack: Stack, endpoint_id: str, out: Any) -> int:
    endpoint = _endpoint(stack, endpoint_id)
    _endpoints(stack).remove(endpoint_id)
    _change_secrets(stack, lambda secrets: {k: v for k, v in secrets.items() if k != endpoint_id})
    print(f"removed {endpoint_id} ({endpoint.url}) and its signing secret", file=out)
    return 0


def _change_secrets(stack: Stack, change: Any) -> str:
    """Applies ``change`` to WebhookSigningSecrets (a JSON object by endpoint id); its ARN.
    An operator command at a time: two concurrent `add`s could lose one's secret."""
    manager = stack.client("secretsmanager")
    arn = stack.physical_id("WebhookSigningSecrets")
    secrets = json.loads(manager.get_secret_value(SecretId=arn)["SecretString"] or "{}")
    manager.put_secret_value(SecretId=arn, SecretString=json.dumps(change(secrets)))
    return arn


def _types(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("webhooks", help="signed webhook endpoints")
    commands = parser.add_subparsers(dest="webhooks_command", required=True)
    adding = commands.add_parser("add", help="register an endpoint; prints its secret once")
    adding.add_argument("url", help="https URL (http allowed on the local stack)")
    adding.add_argument("--events", type=_types, help="comma-separated detail-types (default all)")
    listing = commands.add_parser("list", help="endpoints, their status and failures")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    testing = commands.add_parser("test", help="queue a WebhookTest delivery to an endpoint")
    replaying = commands.add_parser(
        "replay",
        help="re-enable an endpoint and re-drive its dead-lettered deliveries",
        description="Enables the endpoint again, then re-drives its deliveries from "
        "WebhookDeadLetterQueue as `userflow dlq replay` does (safe to run twice: receivers "
        "de-duplicate on webhook-id). Exit status 1 while anything is left in that queue.",
    )
    removing = commands.add_parser("remove", help="delete an endpoint and its secret")
    for sub in (testing, replaying, removing):
        sub.add_argument("endpoint_id")
    for sub in (adding, listing, testing, replaying, removing):
        add_stack_arguments(sub)
    adding.set_defaults(run=lambda a: add(resolve_stack(a), a.url, a.events, sys.stdout))
    listing.set_defaults(run=lambda a: list_endpoints(resolve_stack(a), sys.stdout, as_json=a.json))
    testing.set_defaults(run=lambda a: test(resolve_stack(a), a.endpoint_id, sys.stdout))
    replaying.set_defaults(run=lambda a: replay(resolve_stack(a), a.endpoint_id, sys.stdout))
    removing.set_defaults(run=lambda a: remove(resolve_stack(a), a.endpoint_id, sys.stdout))
