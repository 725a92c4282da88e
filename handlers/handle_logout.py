"""POST /auth/logout: revoke the caller's session family, or all of them with ``"all": true``."""

from __future__ import annotations

from domain.auth_models import LogoutRequest
from handlers.actors import current_caller
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Response

app = create_resolver()


@app.post("/auth/logout", responses=documented(204, None, 400, 401, 403, 409, 422))
def logout(request: LogoutRequest) -> Response[None]:
    auth_service().logout(current_caller(app), request)
    return Response(status_code=204)


handler = lambda_handler(app)
