"""Makes moto's DynamoDB carry exactly the committed changes, as DynamoDB does, at a cost that
does not grow with the table.

moto (checked up to 5.2.5) runs ``TransactWriteItems`` one action at a time, each appending its
stream record, after deep-copying every table it names; on a cancelled transaction it puts the
copies back. The records of the cancelled actions stay in the *old* table's stream shard, which
every shard iterator handed out so far keeps reading, while later writes go to the copy's shard:
a reader sees a change that never happened and then nothing more, ever. Each copy also stays
referenced by moto's instance tracker, so memory grows by a table per transaction. On AWS a
cancelled transaction writes nothing to the stream, and its cost does not depend on the table.

Locally, :mod:`samlocal.aws_endpoint.moto_transactions` replaces that method: it notes only the
items a transaction writes and undoes those (and cuts the stream back) when it is cancelled, so the
table and its shard are never replaced.

moto also writes two ``INSERT`` records when ``UpdateItem`` creates an item (one for the bare key,
then the real one); DynamoDB writes one.

The whole DynamoDB API is served under one lock, so no reader sees a transaction's records before
it is decided. ``tests/unit/local/test_moto_dynamodb.py`` and ``test_moto_transactions.py`` pin
moto's behaviour, so an upgrade that changes it is noticed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from samlocal.aws_endpoint import moto_transactions
from samlocal.wsgi import Environ, StartResponse, WsgiApp

DYNAMODB_LOCK = threading.RLock()
"""Held while moto serves any DynamoDB or DynamoDB Streams call."""
_DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")
_ORIGINAL = DynamoDBBackend.transact_write_items
_ORIGINAL_UPDATE = DynamoDBBackend.update_item


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """:func:`.moto_transactions.transact_write_items`, under the DynamoDB lock."""
    with DYNAMODB_LOCK:
        moto_transactions.transact_write_items(self, transact_items)


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
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item_with_one_record(_ORIGINAL_UPDATE)  # type: ignore[method-assign]


def uninstall() -> None:
    """Puts moto's own methods back."""
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _ORIGINAL_UPDATE  # type: ignore[method-assign]


def serialised(app: WsgiApp) -> WsgiApp:
    """WSGI middleware: DynamoDB and DynamoDB Streams requests run one at a time."""

    def middleware(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
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
