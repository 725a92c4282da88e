"""DELETE /users/{id}."""

from __future__ import annotations

from handlers.dependencies import user_service
from handlers.http import create_resolver, current_caller, documented, lambda_handler
from handlers.router import Response

app = create_resolver()


@app.delete("/users/<user_id>", responses=documented(204, None, 401, 403, 404, 409))
def delete_user(user_id: str) -> Response[None]:
    user_service().delete(current_caller(app), user_id)
    return Response(status_code=204)


handler = lambda_handler(app)
