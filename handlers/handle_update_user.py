"""PATCH /users/{id}: partial update under optimistic concurrency (If-Match)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from domain.users import User, UserPatch
from handlers.actors import current_caller, source_ip
from handlers.dependencies import user_service
from handlers.http import (
    IF_MATCH_PATTERN,
    create_resolver,
    documented,
    lambda_handler,
    parse_if_match,
    user_response,
)
from handlers.router import Header, Response

app = create_resolver()


@app.patch("/users/<user_id>", responses=documented(200, User, 400, 401, 403, 404, 409, 412, 422))
def update_user(
    user_id: str,
    patch: UserPatch,
    if_match: Annotated[
        Annotated[str, StringConstraints(pattern=IF_MATCH_PATTERN)] | SkipJsonSchema[None],
        Header(
            alias="if-match",
            description='The ETag of the version being changed (`"3"`), or `*`',
        ),
    ] = None,
) -> Response[dict[str, Any]]:
    user = user_service().update(
        current_caller(app), user_id, patch, parse_if_match(if_match), source_ip(app)
    )
    return user_response(user)


handler = lambda_handler(app)
