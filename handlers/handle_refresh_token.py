"""POST /auth/refresh: exchange a refresh token for a new pair; the old one dies."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from domain.auth_models import RefreshRequest, TokenPair
from handlers.auth_http import token_response
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post("/auth/refresh", responses=documented(200, TokenPair, 400, 401, 409, 422, 429))
def refresh(request: RefreshRequest) -> Response[dict[str, Any]]:
    with limited_by_source(app, "refresh"):
        pair = auth_service().refresh(request.refresh_token.get_secret_value())
    return token_response(pair)


handler = lambda_handler(app)
