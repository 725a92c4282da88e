"""GET /users (admins): one page at a time with an opaque cursor, filtered and ordered by the
write-sharded indexes (adapters/user_search.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints, ValidationError
from pydantic.json_schema import SkipJsonSchema

from adapters.cursor_codec import CURSOR_PATTERN
from domain.email_address import MAX_EMAIL_LENGTH
from domain.errors import InvalidInput
from domain.user_search import UserQuery
from domain.users import UserPage, UserStatus
from handlers.dependencies import admin_service
from handlers.http import NO_STORE, create_resolver, current_caller, documented, lambda_handler
from handlers.router import Query, Response, content_types

app = create_resolver()

Optional = SkipJsonSchema[None]
Instant = Annotated[str, StringConstraints(max_length=64)]
INSTANT = "ISO 8601 date or time (UTC when it has no offset)"


@app.get("/users", responses=documented(200, UserPage, 401, 403, 422, 503))
def list_users(  # noqa: PLR0917 - one parameter per query string filter
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[
        Annotated[str, StringConstraints(max_length=1024, pattern=CURSOR_PATTERN)] | Optional,
        Query(description="The previous page's `next_cursor`, unchanged, with the same filters"),
    ] = None,
    email_prefix: Annotated[
        Annotated[str, StringConstraints(min_length=1, max_length=MAX_EMAIL_LENGTH)] | Optional,
        Query(description="Addresses starting with this (case-insensitive); ordered by address"),
    ] = None,
    status: Annotated[UserStatus | Optional, Query()] = None,
    email_verified: Annotated[bool | Optional, Query()] = None,
    created_after: Annotated[Instant | Optional, Query(description=INSTANT)] = None,
    created_before: Annotated[Instant | Optional, Query(description=INSTANT)] = None,
    updated_since: Annotated[
        Instant | Optional,
        Query(description=f"{INSTANT}; users changed since then, in the order of their changes"),
    ] = None,
) -> Response[dict[str, Any]]:
    query = _query(
        email_prefix=email_prefix,
        status=status,
        email_verified=email_verified,
        created_after=created_after,
        created_before=created_before,
        updated_since=updated_since,
    )
    page = admin_service().list_users(current_caller(app), limit, cursor, query)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=page.model_dump(mode="json"),
        headers=NO_STORE,
    )


def _query(**filters: str | bool | datetime | None) -> UserQuery:
    """The filters as a query; a bad date or prefix is a 422 naming the parameter."""
    try:
        query = UserQuery.model_validate({k: v for k, v in filters.items() if v is not None})
        query.prefix()
    except ValidationError as error:
        details = [
            {"location": f"query.{'.'.join(str(p) for p in e['loc'])}", "problem": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput("Invalid request", details) from None
    return query


handler = lambda_handler(app)
