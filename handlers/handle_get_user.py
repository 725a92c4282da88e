"""GET /users/{id} and GET /users/me."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from domain.users import User
from handlers.dependencies import user_service
from handlers.http import create_resolver, current_caller, documented, etag, lambda_handler

app = create_resolver()


@app.get("/users/<user_id>", responses=documented(200, User, 401, 403, 404))
def get_user(user_id: str) -> Response[dict[str, Any]]:
    user = user_service().get(current_caller(app), user_id)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=user.model_dump(mode="json"),
        headers={"ETag": etag(user.version)},
    )


handler = lambda_handler(app)
