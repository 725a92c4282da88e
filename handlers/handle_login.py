"""POST /auth/login: email and password for an access token and a refresh token."""

from __future__ import annotations

from typing import Any

from domain.auth_models import LoginRequest, TokenPair
from handlers.auth_http import token_response
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Response

app = create_resolver()


@app.post("/auth/login", responses=documented(200, TokenPair, 400, 401, 409, 422))
def login(credentials: LoginRequest) -> Response[dict[str, Any]]:
    return token_response(
        auth_service().login(credentials.email, credentials.password.get_secret_value())
    )


handler = lambda_handler(app)
