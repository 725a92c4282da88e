"""POST /users/{id}/disable and /enable (admins): a disabled user cannot log in or refresh."""

from __future__ import annotations

from domain.users import UserStatus
from handlers.dependencies import admin_service
from handlers.http import create_resolver, current_caller, documented, lambda_handler
from handlers.router import Response

app = create_resolver()


@app.post("/users/<user_id>/disable", responses=documented(204, None, 401, 403, 404, 409))
def disable_user(user_id: str) -> Response[None]:
    """Also revokes every refresh-token family of the user, in the same write."""
    admin_service().set_status(current_caller(app), user_id, UserStatus.DISABLED)
    return Response(status_code=204)


@app.post("/users/<user_id>/enable", responses=documented(204, None, 401, 403, 404, 409))
def enable_user(user_id: str) -> Response[None]:
    admin_service().set_status(current_caller(app), user_id, UserStatus.ACTIVE)
    return Response(status_code=204)


handler = lambda_handler(app)
