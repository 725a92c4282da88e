"""``GET /users`` on write-sharded indexes: each order is kept in N partitions (a hash of the user
id picks one, so no partition takes every write), queried in parallel and merged in order.

- creation order: GSI1, one partition per status, verification state and shard
  (``USERS#active#v#3``), so ``status`` and ``email_verified`` pick partitions instead of
  filtering; creation bounds are key conditions. Items not yet moved by the backfill still sit in
  the old single partition (``USERS``), which is merged in as one more.
- last change: GSI2, ``UPDATED#<shard>`` (``updated_since`` is a key condition).
- address: GSI2 over the email claims, ``EMAILS#<shard>`` (``email_prefix`` is a key condition).

The indexes hold keys only; a page's users are read from the table (public attributes only) and
checked against every filter there, so no filter scans anything beyond its index range. The
cursor is the position of the last index entry examined, signed (adapters/cursor_codec.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from adapters.cursor_codec import CursorCodec
from adapters.user_items import (
    LEGACY_LIST_PARTITION,
    LIST_INDEX,
    SEARCH_INDEX,
    USER_PREFIX,
    USER_SK,
    created_partition,
    email_partition,
    updated_partition,
    user_from_item,
)
from domain.errors import InvalidCursor, SearchUnavailable
from domain.user_search import MAX_EXAMINED, Order, UserQuery, instant_key
from domain.users import User, UserPage, UserStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PUBLIC_ATTRIBUTES = tuple(User.model_fields)
MAX_PARALLEL_QUERIES = 16
HIGHEST = "\U0010ffff"
"""Above every character an address may hold: the end of a prefix's range."""


@dataclass(frozen=True)
class _Stream:
    """One partition of one index, in its sort key's order, within bounds."""

    index: str
    partition_key: str
    partition: str
    sort_key: str
    low: str | None
    """Inclusive."""
    high: str | None
    """Inclusive."""
    id_attribute: str


def _key_condition(stream: _Stream) -> tuple[str, dict[str, Any]]:
    condition = f"{stream.partition_key} = :partition"
    values: dict[str, Any] = {":partition": {"S": stream.partition}}
    if stream.low is not None and stream.high is not None:
        condition += f" AND {stream.sort_key} BETWEEN :low AND :high"
        values |= {":low": {"S": stream.low}, ":high": {"S": stream.high}}
    elif stream.low is not None:
        condition += f" AND {stream.sort_key} >= :low"
        values[":low"] = {"S": stream.low}
    elif stream.high is not None:
        condition += f" AND {stream.sort_key} <= :high"
        values[":high"] = {"S": stream.high}
    return condition, values


def _after(position: str) -> str:
    """The first string after ``position``: a bound that excludes it."""
    return position + "\x00"


class UserSearch:
    def __init__(self, db: DynamoDBClient, table: str, shards: int, cursors: CursorCodec) -> None:
        self._db = db
        self._table = table
        self._shards = shards
        self._cursors = cursors

    # ------------------------------------------------------------ the page
    def page(self, query: UserQuery, limit: int, cursor: str | None) -> UserPage:
        after = self._position(query, cursor)
        streams = self._streams(query, after)
        with ThreadPoolExecutor(max_workers=min(len(streams), MAX_PARALLEL_QUERIES)) as pool:
            firsts = list(pool.map(lambda s: self._query(s, None, limit), streams))
        merged = heapq.merge(
            *(
                self._entries(stream, first, limit)
                for stream, first in zip(streams, firsts, strict=True)
            )
        )
        found: list[User] = []
        last: str | None = None
        examined = 0
        seen: set[str] = set()
        while len(found) < limit and examined < MAX_EXAMINED:
            chunk = list(itertools.islice(merged, min(100, max(limit - len(found), 10))))
            if not chunk:
                return UserPage(items=found, next_cursor=None)
            users = self._users([user_id for _, user_id in chunk])
            left = len(chunk)
            for position, user_id in chunk:
                examined, left, last = examined + 1, left - 1, position
                user = users.get(user_id)
                if user is not None and user_id not in seen and query.matches(user):
                    seen.add(user_id)
                    found.append(user)
                    if len(found) == limit:
                        break
            if left:  # entries read past the full page: the next page starts with them
                return UserPage(items=found, next_cursor=self._cursor(query, last))
        more = next(merged, None) is not None
        return UserPage(items=found, next_cursor=self._cursor(query, last) if more else None)

    def _cursor(self, query: UserQuery, last: str | None) -> str | None:
        if last is None:
            return None
        return self._cursors.encode({"o": str(query.order), "a": last, "q": query.fingerprint()})

    def _position(self, query: UserQuery, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        decoded = self._cursors.decode(cursor)
        if decoded.get("q") != query.fingerprint() or not isinstance(decoded.get("a"), str):
            # A cursor of another search (or of the former list), not a position in this one.
            raise InvalidCursor("Cursor belongs to another query; start again without it")
        position: str = decoded["a"]
        return position

    # ------------------------------------------------------------ which partitions, which range
    def _streams(self, query: UserQuery, after: str | None) -> list[_Stream]:
        shards = range(self._shards)
        low = None if after is None else _after(after)
        if query.order is Order.EMAIL:
            prefix = query.prefix()
            low = max(low or prefix, prefix)
            return [
                _Stream(SEARCH_INDEX, "GSI2PK", email_partition(s), "GSI2SK", low,
                        prefix + HIGHEST, "user_id")
                for s in shards
            ]  # fmt: skip
        if query.order is Order.UPDATED:
            since = instant_key(query.updated_since) if query.updated_since else None
            low = max(filter(None, (low, since)), default=None)
            return [
                _Stream(SEARCH_INDEX, "GSI2PK", updated_partition(s), "GSI2SK", low, None, "PK")
                for s in shards
            ]
        if query.created_after is not None:
            low = max(filter(None, (low, _after(instant_key(query.created_after) + "#~"))))
        high = instant_key(query.created_before) if query.created_before else None
        statuses = [query.status] if query.status else list(UserStatus)
        verified = [query.email_verified] if query.email_verified is not None else [True, False]
        partitions = [
            created_partition(str(status), state, shard)
            for status, state, shard in itertools.product(statuses, verified, shards)
        ]
        return [
            _Stream(LIST_INDEX, "GSI1PK", partition, "GSI1SK", low, high, "PK")
            for partition in [*partitions, LEGACY_LIST_PARTITION]
        ]

    # ------------------------------------------------------------ reading
    def _query(
        self, stream: _Stream, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
        condition, values = _key_condition(stream)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": stream.index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": f"{stream.sort_key}, {stream.id_attribute}",
            "Limit": min(100, max(limit, 10)),
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        try:
            answer = self._db.query(**request)
        except ClientError as error:
            code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
            if code == "ValidationException" and "index" in message.lower():
                # The index is still being built (a deploy added it; see docs/deploy.md).
                raise SearchUnavailable from error
            raise
        entries = [
            (item[stream.sort_key]["S"], item[stream.id_attribute]["S"].removeprefix(USER_PREFIX))
            for item in answer["Items"]
        ]
        return entries, answer.get("LastEvaluatedKey")

    def _entries(
        self,
        stream: _Stream,
        first: tuple[list[tuple[str, str]], dict[str, Any] | None],
        limit: int,
    ) -> Iterator[tuple[str, str]]:
        """(position, user id) of one stream, fetching its next pages as the merge asks."""
        entries, more = first
        yield from entries
        while more is not None:
            entries, more = self._query(stream, more, limit)
            yield from entries

    def _users(self, user_ids: Sequence[str]) -> dict[str, User]:
        """The current public view of these users (gone ones are left out)."""
        names = {f"#a{i}": name for i, name in enumerate(PUBLIC_ATTRIBUTES)}
        pending: list[dict[str, Any]] = [
            {"PK": {"S": f"{USER_PREFIX}{user_id}"}, "SK": {"S": USER_SK}}
            for user_id in dict.fromkeys(user_ids)
        ]
        users: dict[str, User] = {}
        while pending:
            request: Any = {
                "Keys": pending[:100],
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
            }
            answer: Any = self._db.batch_get_item(RequestItems={self._table: request})
            for item in answer["Responses"].get(self._table, []):
                user = user_from_item(item)
                users[user.id] = user
            unprocessed = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            pending = unprocessed + pending[100:]
        return users
