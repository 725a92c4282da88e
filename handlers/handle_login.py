"""POST /auth/login: email and password for an access token, a refresh token and a device token,
or, for a user with a second factor, an ``mfa_token`` for ``POST /auth/mfa``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from domain.auth_models import LoginRequest
from domain.mfa_models import LoginAnswer
from handlers.auth_http import token_response
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post("/auth/login", responses=documented(200, LoginAnswer, 400, 401, 409, 422, 429))
def login(credentials: LoginRequest) -> Response[dict[str, Any]]:
    """429 with Retry-After: the account's (or the device's) throttle, or the source's limits."""
    device = credentials.device_token
    with limited_by_source(app, "login"):
        tokens = auth_service().login(
            credentials.email,
            credentials.password.get_secret_value(),
            device.get_secret_value() if device else None,
        )
    return token_response(tokens)


handler = lambda_handler(app)
