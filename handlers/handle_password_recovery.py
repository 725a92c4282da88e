"""POST /auth/forgot-password and POST /auth/reset-password (no enumeration, no mail bombing)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from domain.auth_models import ForgotPasswordRequest, ResetPasswordRequest
from handlers.dependencies import recovery_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post("/auth/forgot-password", responses=documented(202, None, 400, 409, 422, 429))
def forgot_password(request: ForgotPasswordRequest) -> Response[None]:
    """202 for every address, known or not, in about the same time (429: the source's limit)."""
    with limited_by_source(app, "forgot") as source:
        recovery_service().forgot_password(request.email, source)
    return Response(status_code=202)


@app.post("/auth/reset-password", responses=documented(204, None, 400, 409, 422, 429))
def reset_password(request: ResetPasswordRequest) -> Response[None]:
    """A new password; every session and access token of the user is revoked."""
    with limited_by_source(app, "reset"):
        recovery_service().reset_password(
            request.token.get_secret_value(), request.password.get_secret_value()
        )
    return Response(status_code=204)


handler = lambda_handler(app)
