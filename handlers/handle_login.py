"""POST /auth/login: email and password for an access token and a refresh token, or, for a user
with a second factor, an ``mfa_token`` for ``POST /auth/mfa``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from domain.auth_models import LoginRequest
from domain.mfa_models import LoginAnswer
from handlers.auth_http import token_response
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler

app = create_resolver()


@app.post("/auth/login", responses=documented(200, LoginAnswer, 400, 401, 409, 422))
def login(credentials: LoginRequest) -> Response[dict[str, Any]]:
    return token_response(
        auth_service().login(credentials.email, credentials.password.get_secret_value())
    )


handler = lambda_handler(app)
