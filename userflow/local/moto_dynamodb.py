"""Makes moto's DynamoDB stream carry exactly the committed changes, as DynamoDB Streams does.

moto (checked up to 5.2.5) runs ``TransactWriteItems`` one action at a time, each appending its
stream record, and on a cancelled transaction puts back a deep copy of every table taken before
it. The records of the cancelled actions stay in the *old* table's stream shard, which is the one
that every shard iterator handed out so far keeps reading, while later writes go to the copy's
shard: a reader sees a change that never happened and then nothing more, ever. On AWS a
cancelled transaction writes nothing to the stream.

moto also writes two ``INSERT`` records when ``UpdateItem`` creates an item (one for the bare key,
then the real one); DynamoDB writes one.

The fix keeps one shard per table for good: after a cancelled transaction the shard that readers
hold is cut back to where it was and attached to the restored table. The whole DynamoDB API is
served under one lock, so no reader sees a transaction's records before it is decided and no
write lands in a table object that a rollback is about to replace. ``tests/unit/local/
test_moto_dynamodb.py`` pins moto's behaviour, so an upgrade that changes it is noticed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

Environ = dict[str, Any]
WsgiApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]

DYNAMODB_LOCK = threading.RLock()
"""Held while moto serves any DynamoDB or DynamoDB Streams call."""
_DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
_ORIGINAL = DynamoDBBackend.transact_write_items
_ORIGINAL_UPDATE = DynamoDBBackend.update_item


def transact_write_items_keeping_the_stream(
    original: Callable[[DynamoDBBackend, list[dict[str, Any]]], None],
) -> Callable[[DynamoDBBackend, list[dict[str, Any]]], None]:
    """``original`` (moto's) with its stream records dropped, and its shard kept, on failure."""

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with DYNAMODB_LOCK:
            shards = {
                name: (table.stream_shard, len(table.stream_shard.items))
                for name, table in self.tables.items()
                if table.stream_shard is not None
            }
            try:
                original(self, transact_items)
            except Exception:
                for name, (shard, committed) in shards.items():
                    del shard.items[committed:]
                    table = self.tables.get(name)
                    if table is not None and table.stream_shard is not shard:
                        table.stream_shard = shard
                        shard.table = table
                raise

    return transact_write_items


def update_item_with_one_record(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` (moto's) leaving one stream record per call: an upsert's bare-key INSERT is
    replaced by the real one, which takes its sequence number."""

    @functools.wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        with DYNAMODB_LOCK:
            shard = self.get_table(table_name).stream_shard
            before = len(shard.items) if shard is not None else 0
            item = original(self, table_name, *args, **kwargs)
            if shard is not None and len(shard.items) == before + 2:
                upsert = shard.items.pop()
                bare = shard.items[-1].record["dynamodb"]
                upsert.record["dynamodb"]["SequenceNumber"] = bare["SequenceNumber"]
                shard.items[-1] = upsert
            return item

    return update_item


def install() -> None:
    """Patches moto's DynamoDB backend in this process (idempotent)."""
    DynamoDBBackend.transact_write_items = transact_write_items_keeping_the_stream(_ORIGINAL)  # type: ignore[method-assign,assignment]
    DynamoDBBackend.update_item = update_item_with_one_record(_ORIGINAL_UPDATE)  # type: ignore[method-assign]


def uninstall() -> None:
    """Puts moto's own methods back."""
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _ORIGINAL_UPDATE  # type: ignore[method-assign]


def serialised(app: WsgiApp) -> WsgiApp:
    """WSGI middleware: DynamoDB and DynamoDB Streams requests run one at a time."""

    def middleware(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(_DYNAMODB_TARGETS):
            return app(environ, start_response)
        with DYNAMODB_LOCK:
            chunks = app(environ, start_response)
            body = b"".join(chunks)
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return [body]

    return middleware
