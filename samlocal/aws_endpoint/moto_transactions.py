"""``TransactWriteItems`` for the local DynamoDB: moto's answers, without whole-table copies.

moto (checked up to 5.2.5) deep-copies every table a transaction names, once per action, before
running it, and puts a copy back when the transaction is cancelled. Its cost grows with the
table, and moto's instance tracker keeps every copy alive, so the local stack's memory grew by a
whole table, stream shard included, per transaction until the kernel killed it (issue 29).

This runs the actions in moto's order through moto's own checks and writes, but first notes, per
write, the one item it is about to change, and each touched table's stream length. When the
transaction is cancelled (or refused part-way) those items are put back in reverse order and the
streams cut back, so a cancelled transaction leaves no trace — not in the table, not in the
stream — and the table object readers hold is never replaced. What callers see (cancellation
reasons, their order, codes and messages, ``ALL_OLD`` items, the errors raised instead of a
cancellation) is moto's, pinned against moto's own method in
``tests/unit/local/test_moto_transactions.py``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table

MAX_ACTIONS = 100
OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})
Reason = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


class _ConditionFailed(ConditionalCheckFailed):
    """An action's condition is false; ``item`` is what ``ALL_OLD`` returns (None: not asked)."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__(item=item)
        self.item = item


@dataclass
class _Change:
    """One item as it was before a write of the transaction (``before`` None: it did not exist)."""

    table: Table
    hash_value: DynamoType
    range_value: DynamoType | None
    before: Item | None
    had_collection: bool

    def undo(self) -> None:
        if self.range_value is None:
            if self.before is None:
                self.table.items.pop(self.hash_value, None)
            else:
                self.table.items[self.hash_value] = self.before  # type: ignore[assignment]
            return
        collection = self.table.items[self.hash_value]
        if self.before is None:
            collection.pop(self.range_value, None)
            if not collection and not self.had_collection:
                del self.table.items[self.hash_value]
        else:
            collection[self.range_value] = self.before


@dataclass
class Journal:
    """What a transaction changed so far: enough to undo it, nothing more."""

    changes: list[_Change] = field(default_factory=list)
    streams: dict[int, tuple[StreamShard, int]] = field(default_factory=dict)

    def watch_stream(self, table: Table) -> None:
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.streams:
            self.streams[id(shard)] = (shard, len(shard.items))

    def note(
        self,
        table: Table,
        hash_value: DynamoType,
        range_value: DynamoType | None,
        current: Item | None,
        *,
        copy_item: bool,
    ) -> None:
        """Before a write: ``current`` is the stored item. An update changes it in place, so it
        is copied (that item only); a put or delete replaces it, so the reference is enough."""
        self.watch_stream(table)
        self.changes.append(
            _Change(
                table,
                hash_value,
                range_value,
                copy.deepcopy(current) if copy_item and current is not None else current,
                range_value is not None and hash_value in table.items,
            )
        )

    def undo(self) -> None:
        for change in reversed(self.changes):
            change.undo()
        for shard, length in self.streams.values():
            del shard.items[length:]
        self.changes.clear()


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    """The action's primary key, as moto reads it (a put's from its item)."""
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    attrs = op["Item"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _apply(
    backend: DynamoDBBackend,
    op_type: str,
    op: dict[str, Any],
    key: dict[str, Any],
    current: Item | None,
    *,
    journal: Journal,
) -> None:
    """Writes one action (moto's own write, condition included), noted in ``journal`` first."""
    if op_type == "ConditionCheck":
        return
    table = backend.get_table(op["TableName"])
    hash_value, range_value = backend.get_keys_value(table, key)
    journal.note(table, hash_value, range_value, current, copy_item=op_type == "Update")
    condition: dict[str, Any] = {
        "condition_expression": op.get("ConditionExpression"),
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"], **condition)
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, **condition)
    else:
        backend.update_item(
            op["TableName"], key, update_expression=op["UpdateExpression"], **condition
        )


def _run(
    backend: DynamoDBBackend,
    op_type: str,
    op: dict[str, Any],
    journal: Journal,
    seen: set[tuple[str, str]],
) -> None:
    """One action: moto's unicity check, its condition (``ALL_OLD`` item on failure), its write."""
    if op_type not in OPERATIONS:
        raise ValueError("Unsupported transaction operation")
    key = _key(backend, op_type, op)
    target = (str(op["TableName"]), str(dict(sorted(key.items()))))
    if target in seen:
        raise MultipleTransactionsException()
    seen.add(target)
    current = backend.get_item(op["TableName"], key)
    expression = op.get("ConditionExpression")
    if expression is not None:
        condition = get_filter_expression(
            expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if not condition.expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            raise _ConditionFailed(old)
    _apply(backend, op_type, op, key, current, journal=journal)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's ``DynamoDBBackend.transact_write_items``, undoing only what it wrote."""
    if len(transact_items) > MAX_ACTIONS:
        raise TooManyTransactionsException()
    journal = Journal()
    seen: set[tuple[str, str]] = set()
    reasons: list[Reason] = []
    try:
        for action in transact_items:
            if len(action) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(action.items()))
            try:
                _run(self, op_type, op, journal, seen)
                reasons.append((None, None, None))
            except MockValidationException:
                raise
            except ConditionalCheckFailed as failed:
                item = failed.item if isinstance(failed, _ConditionFailed) else None
                reasons.append(("ConditionalCheckFailed", str(failed.message), item))
            except Exception as error:  # moto reports any other failure as that action's reason
                reasons.append((type(error).__name__, str(error), None))
    except BaseException:
        journal.undo()
        raise
    if any(code is not None for code, _, _ in reasons):
        journal.undo()
        raise TransactionCanceledException(reasons)
