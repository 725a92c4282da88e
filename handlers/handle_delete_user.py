"""DELETE /users/{id}; deleting your own account needs recent authentication."""

from __future__ import annotations

from typing import Annotated

from domain.errors import InvalidInput
from domain.users import AccountDeletion
from handlers.actors import current_caller
from handlers.dependencies import user_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Body, Response

app = create_resolver()
NO_BODY = AccountDeletion()


@app.delete("/users/<user_id>", responses=documented(204, None, 400, 401, 403, 404, 409))
def delete_user(
    user_id: str,
    request: Annotated[AccountDeletion, Body()] = NO_BODY,
) -> Response[None]:
    if app.current_event.body and app.current_event.json_body is None:
        raise InvalidInput("The body, when sent, must be a JSON object")
    current = request.current_password
    user_service().delete(
        current_caller(app), user_id, current.get_secret_value() if current else None
    )
    return Response(status_code=204)


handler = lambda_handler(app)
