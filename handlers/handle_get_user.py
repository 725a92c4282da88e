"""GET /users/{id} and GET /users/me."""

from __future__ import annotations

from typing import Any

from domain.users import User
from handlers.actors import current_caller
from handlers.dependencies import user_service
from handlers.http import create_resolver, documented, lambda_handler, user_response
from handlers.router import Response

app = create_resolver()


@app.get("/users/<user_id>", responses=documented(200, User, 401, 403, 404))
def get_user(user_id: str) -> Response[dict[str, Any]]:
    return user_response(user_service().get(current_caller(app), user_id))


handler = lambda_handler(app)
