"""`userflow webhooks add/list/test/replay/remove`: signed webhook endpoints
(docs/events/webhooks.md).

`add` registers an endpoint and prints its signing secret once; `test` queues a `WebhookTest`
delivery to one endpoint; `replay` re-enables an endpoint and re-drives its dead-lettered
deliveries as `userflow dlq replay` does; `remove` deletes the endpoint and its secret. What they
do is userflow/webhook_endpoints.py's; this module reads the arguments and prints.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from userflow.errors import EXIT_FAILED, EXIT_USAGE, CommandError
from userflow.stack import Stack, add_stack_arguments, resolve_stack


def add(stack: Stack, url: str, event_types: list[str] | None, out: Any) -> int:
    from domain.errors import InvalidInput
    from userflow.webhook_endpoints import register_endpoint

    try:
        registered = register_endpoint(stack, url, event_types)
    except InvalidInput as error:
        raise CommandError(f"refused: {error}", EXIT_USAGE) from None
    endpoint = registered.endpoint
    print(f"endpoint {endpoint.id} -> {url}", file=out)
    print(f"events: {', '.join(sorted(endpoint.event_types)) or 'all'}", file=out)
    print(f"signing secret (shown once, keep it safe): {registered.secret}", file=out)
    return 0


def list_endpoints(stack: Stack, out: Any, *, as_json: bool) -> int:
    from userflow.webhook_endpoints import endpoints

    for endpoint in endpoints(stack):
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
    from userflow.webhook_endpoints import find_endpoint

    endpoint = find_endpoint(stack, endpoint_id)
    if endpoint is None:
        raise CommandError(f"no webhook endpoint {endpoint_id}", EXIT_FAILED)
    return endpoint


def test(stack: Stack, endpoint_id: str, out: Any) -> int:
    from domain.webhooks import TEST_EVENT_TYPE
    from userflow.webhook_endpoints import queue_test_delivery

    endpoint = _endpoint(stack, endpoint_id)
    message_id = queue_test_delivery(stack, endpoint)
    print(f"queued a {TEST_EVENT_TYPE} delivery {message_id} to {endpoint.url}", file=out)
    return 0


def replay(stack: Stack, endpoint_id: str, out: Any) -> int:
    """Enables the endpoint, then re-drives its dead-lettered deliveries as `userflow dlq replay`
    does (userflow/dlq/webhook_replay.py: one implementation); the queue's other messages stay.
    Its exit status is `dlq replay`'s: 1 while anything is left in the queue."""
    from userflow.commands.dlq import replay as replay_dead_letters
    from userflow.dlq.replay import Limits
    from userflow.dlq.webhook_replay import WEBHOOK_DEAD_LETTER_QUEUE
    from userflow.webhook_endpoints import enable_endpoint

    _endpoint(stack, endpoint_id)
    enable_endpoint(stack, endpoint_id)
    return replay_dead_letters(
        stack, False, WEBHOOK_DEAD_LETTER_QUEUE, out, limits=Limits(endpoint=endpoint_id)
    )


def remove(stack: Stack, endpoint_id: str, out: Any) -> int:
    from userflow.webhook_endpoints import remove_endpoint

    endpoint = _endpoint(stack, endpoint_id)
    remove_endpoint(stack, endpoint_id)
    print(f"removed {endpoint_id} ({endpoint.url}) and its signing secret", file=out)
    return 0


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
