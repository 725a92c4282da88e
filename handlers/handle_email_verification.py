"""POST /auth/verify-email (a mailed token) and POST /auth/verify-email/resend (signed in)."""

from __future__ import annotations

from domain.auth_models import VerifyEmailRequest
from handlers.actors import current_caller, source_ip
from handlers.dependencies import recovery_service
from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Response
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post("/auth/verify-email", responses=documented(204, None, 400, 409, 422, 429))
def verify_email(request: VerifyEmailRequest) -> Response[None]:
    """The user's email_verified becomes true; the token is used up."""
    with limited_by_source(app, "verify"):
        recovery_service().verify_email(request.token.get_secret_value())
    return Response(status_code=204)


@app.post("/auth/verify-email/resend", responses=documented(202, None, 401, 403, 409, 429))
def resend_verification() -> Response[None]:
    """A new message; the previous token is dead. Nothing is sent to a verified address."""
    recovery_service().resend_verification(current_caller(app), source_ip(app))
    return Response(status_code=202)


handler = lambda_handler(app)
