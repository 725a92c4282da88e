"""GET /users (admins): one page at a time with an opaque cursor."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from adapters.cursor_codec import CURSOR_PATTERN
from domain.users import UserPage
from handlers.dependencies import user_service
from handlers.http import NO_STORE, create_resolver, current_caller, documented, lambda_handler
from handlers.router import Query, Response, content_types

app = create_resolver()


@app.get("/users", responses=documented(200, UserPage, 401, 403, 422))
def list_users(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[
        Annotated[str, StringConstraints(max_length=1024, pattern=CURSOR_PATTERN)]
        | SkipJsonSchema[None],
        Query(description="The `next_cursor` of the previous page, unchanged"),
    ] = None,
) -> Response[dict[str, Any]]:
    page = user_service().list_users(current_caller(app), limit, cursor)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=page.model_dump(mode="json"),
        headers=NO_STORE,
    )


handler = lambda_handler(app)
