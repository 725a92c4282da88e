"""DELETE /users/{id}; deleting your own account needs recent authentication."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic.json_schema import SkipJsonSchema

from domain.users import AccountDeletion
from handlers.dependencies import user_service
from handlers.http import create_resolver, current_caller, documented, lambda_handler

app = create_resolver()


@app.delete("/users/<user_id>", responses=documented(204, None, 400, 401, 403, 404, 409))
def delete_user(
    user_id: str,
    request: Annotated[AccountDeletion | SkipJsonSchema[None], Body()] = None,
) -> Response[None]:
    current = request.current_password if request else None
    user_service().delete(
        current_caller(app), user_id, current.get_secret_value() if current else None
    )
    return Response(status_code=204)


handler = lambda_handler(app)
