"""Admin search (``GET /users``): the filters, which order drives a query, and what a user must be
to match. The index layout that serves each order is the adapter's (adapters/user_search.py);
every result is checked against ``matches`` on the current item, so an index a little behind the
table never returns a user who no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.email_address import MAX_EMAIL_LENGTH
from domain.errors import InvalidInput
from domain.users import User, UserStatus


class Order(StrEnum):
    """The order of a result, chosen by the filters: the index that serves them best."""

    CREATED = "created"
    """Creation order: no filter, or only status, email_verified and creation bounds."""
    UPDATED = "updated"
    """Last change first to last: with ``updated_since`` (reconciliation)."""
    EMAIL = "email"
    """By address: with ``email_prefix``."""


def instant_key(moment: datetime) -> str:
    """A UTC instant with a fixed width, so that text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aware(value: object) -> object:
    """ISO 8601; a time without an offset, or a bare date, is taken as UTC."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError("must be an ISO 8601 date or time") from error
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


Instant = Annotated[datetime, BeforeValidator(_aware)]


def normalized_prefix(prefix: str) -> str:
    """The stored form of an address's start (domain/email_address.py): NFKC, lower case."""
    if any(unicodedata.category(character) in ("Cc", "Cf", "Cs") for character in prefix):
        raise InvalidInput(
            "Invalid request",
            [{"location": "query.email_prefix", "problem": "control or format character"}],
        )
    return unicodedata.normalize("NFKC", prefix).lower()


class UserQuery(BaseModel):
    """Filters of ``GET /users``, all optional and combinable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email_prefix: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_LENGTH)] | None = None
    status: UserStatus | None = None
    email_verified: bool | None = None
    created_after: Instant | None = None
    created_before: Instant | None = None
    updated_since: Instant | None = None

    @property
    def order(self) -> Order:
        if self.email_prefix is not None:
            return Order.EMAIL
        if self.updated_since is not None:
            return Order.UPDATED
        return Order.CREATED

    def prefix(self) -> str:
        return normalized_prefix(self.email_prefix or "")

    def matches(self, user: User) -> bool:
        """Whether ``user``, as stored now, satisfies every filter."""
        checks = (
            self.email_prefix is None or user.email.startswith(self.prefix()),
            self.status is None or user.status == self.status,
            self.email_verified is None or user.email_verified == self.email_verified,
            self.created_after is None or user.created_at > self.created_after,
            self.created_before is None or user.created_at < self.created_before,
            self.updated_since is None or user.updated_at >= self.updated_since,
        )
        return all(checks)

    def fingerprint(self) -> str:
        """Names these filters in a cursor: a cursor is only good for the query that made it."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def sort_key(user: User, order: Order) -> str:
    """Where ``user`` stands in ``order``; ids break ties, so every position is unique."""
    if order is Order.EMAIL:
        return user.email
    moment = user.updated_at if order is Order.UPDATED else user.created_at
    return moment_key(user.id, moment)


def moment_key(user_id: str, moment: datetime) -> str:
    """The user's place among users ordered by a time (creation or last change)."""
    return f"{instant_key(moment)}#{user_id}"


MAX_EXAMINED = 1000
"""Index entries one request reads at most: a page that filters most of them out comes back
shorter than ``limit``, with a cursor to go on (as DynamoDB's own pages do)."""
