"""`userflow dlq show|drop QUEUE ID`: one dead-letter message, looked at whole or removed for good
(its body and attributes written to a new file first). The finding and saving is in
``userflow.dlq.one_message``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from userflow.commands.dlq_queues import DLQ_HELP, dead_letter_queues, json_flag, select_queues
from userflow.dlq.queue import QueueIo
from userflow.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from userflow.stack import Stack, add_stack_arguments, resolve_stack

if TYPE_CHECKING:
    from userflow.dlq.discovery import DeadLetterQueue


def show(stack: Stack, queue_name: str, message_id: str, out: Any, *, as_json: bool) -> int:
    from userflow.dlq.one_message import HeldMessages, message_document, render

    sqs = stack.client("sqs")
    (queue,) = _one_queue(stack, sqs, queue_name)
    with HeldMessages(QueueIo(sqs, queue.url)) as held:
        message = _found(held, queue, message_id)
        document = message_document(queue, message)
    print(json.dumps(document) if as_json else render(document), file=out)
    return EXIT_OK


def drop(
    stack: Stack,
    queue_name: str,
    message_id: str,
    out: Any,
    *,
    save_to: Path | None = None,
    confirmed: bool = False,
    as_json: bool = False,
) -> int:
    """Drops one message after saving it; without ``confirmed`` asks on a terminal, refuses
    elsewhere (a script must say --yes)."""
    from userflow.dlq.one_message import (
        HeldMessages,
        default_save_path,
        message_document,
        render,
        save,
    )

    sqs = stack.client("sqs")
    (queue,) = _one_queue(stack, sqs, queue_name)
    path = save_to or default_save_path(queue, message_id)
    if path.exists():
        raise CommandError(f"{path} exists: name another file with --output", EXIT_USAGE)
    with HeldMessages(QueueIo(sqs, queue.url)) as held:
        message = _found(held, queue, message_id)
        document = message_document(queue, message)
        if not confirmed and not _confirm(render(document), queue, message_id):
            print(f"not dropped: {message_id} stays in {queue.label}", file=sys.stderr)
            return EXIT_FAILED
        try:
            save(document, path)
        except OSError as error:
            raise CommandError(f"not dropped: cannot write {path} ({error})") from None
        held.drop(message)
    result = {"dropped": message_id, "queue": queue.label, "saved_to": str(path)}
    text = f"dropped {message_id} from {queue.label}; its body and attributes are in {path}"
    print(json.dumps(result) if as_json else text, file=out)
    return EXIT_OK


def _one_queue(stack: Stack, sqs: Any, wanted: str) -> list[DeadLetterQueue]:
    chosen = select_queues(dead_letter_queues(stack, sqs), wanted)
    if len(chosen) > 1:
        names = ", ".join(queue.url for queue in chosen)
        raise CommandError(f"{wanted!r} names several queues ({names}): give its URL", EXIT_USAGE)
    return chosen


def _found(held: Any, queue: DeadLetterQueue, message_id: str) -> dict[str, Any]:
    message: dict[str, Any] | None = held.find(message_id)
    if message is None:
        raise CommandError(
            f"no message {message_id} in {queue.label} (gone, or held by another consumer or a "
            "replay: try again later; `userflow dlq list` shows the ids)",
            EXIT_USAGE,
        )
    return message


def _confirm(description: str, queue: DeadLetterQueue, message_id: str) -> bool:
    if not sys.stdin.isatty():
        raise CommandError(
            f"dropping {message_id} needs --yes when no one can be asked (not a terminal)",
            EXIT_USAGE,
        )
    print(description, file=sys.stderr)
    answer = input(f"drop this message from {queue.label}? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def register_show_and_drop(commands: Any) -> None:
    showing = commands.add_parser(
        "show",
        help="one message: what it is, its attributes and its whole body",
        epilog=DLQ_HELP,
    )
    showing.add_argument("queue", help="logical id, queue name or URL (as `dlq list` names it)")
    showing.add_argument("message_id", help="the message id `dlq list` shows")
    add_stack_arguments(showing)
    json_flag(showing, "the message")
    showing.set_defaults(
        run=lambda args: show(
            resolve_stack(args), args.queue, args.message_id, sys.stdout, as_json=args.json
        )
    )
    dropping = commands.add_parser(
        "drop",
        help="delete one message for good, its body written to a file first",
        description="Deletes one message (garbage, or a poison record nothing will repair) after "
        "writing it to a file (--output; default userflow-dropped-<queue>-<id>.json here).",
        epilog=DLQ_HELP,
    )
    dropping.add_argument("queue", help="logical id, queue name or URL (as `dlq list` names it)")
    dropping.add_argument("message_id", help="the message id `dlq list` shows")
    add_stack_arguments(dropping)
    dropping.add_argument("--yes", action="store_true", help="do not ask (needed off a terminal)")
    dropping.add_argument("--output", type=Path, help="where to save the message (a new file)")
    json_flag(dropping, "what was dropped and where it was saved")
    dropping.set_defaults(
        run=lambda args: drop(
            resolve_stack(args),
            args.queue,
            args.message_id,
            sys.stdout,
            save_to=args.output,
            confirmed=args.yes,
            as_json=args.json,
        )
    )
