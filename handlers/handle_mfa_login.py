"""POST /auth/mfa: the second step of a login (``mfa_token`` and a second factor) for the usual
token pair, its ``amr`` naming the factor. Rules: domain/mfa_login.py."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from domain.auth_models import LoginTokens
from domain.mfa_models import MfaVerifyRequest
from handlers.auth_http import token_response
from handlers.dependencies import auth_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post("/auth/mfa", responses=documented(200, LoginTokens, 400, 401, 409, 429))
def verify_second_factor(request: MfaVerifyRequest) -> Response[dict[str, Any]]:
    """429 with Retry-After: the account's (or the device's) login throttle, or the source's
    limits (wrong codes count as failures of the source too)."""
    device = request.device_token
    with limited_by_source(app, "mfa"):
        tokens = auth_service().complete_mfa(
            request.mfa_token.get_secret_value(),
            request.proof(),
            device.get_secret_value() if device else None,
        )
    return token_response(tokens)


handler = lambda_handler(app)
