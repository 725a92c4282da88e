"""The caller's second factors (``/users/me/mfa...``) and the administrators' reset
(``DELETE /users/{id}/mfa``). Rules: domain/mfa.py."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

from domain.mfa_models import (
    ConfirmTotpRequest,
    MfaStatus,
    ReauthenticatedRequest,
    RecoveryCodes,
    TotpEnrolment,
)
from handlers.actors import current_caller
from handlers.dependencies import mfa_service
from handlers.http import (
    NO_STORE,
    create_resolver,
    documented,
    lambda_handler,
    refuse_non_object_body,
)
from handlers.router import Body, Response, content_types

app = create_resolver()

OptionalReauthentication = Annotated[ReauthenticatedRequest | SkipJsonSchema[None], Body()]


def _password(request: ReauthenticatedRequest | None) -> str | None:
    """The current password of an optional body (an object, if any: refuse_non_object_body)."""
    refuse_non_object_body(app)
    current = request.current_password if request else None
    return current.get_secret_value() if current else None


def _private(body: BaseModel) -> Response[dict[str, Any]]:
    """Secrets and recovery codes: shown once, cached by no one."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
        headers=NO_STORE,
    )


@app.get("/users/me/mfa", responses=documented(200, MfaStatus, 401))
def mfa_status() -> Response[dict[str, Any]]:
    return _private(mfa_service().status(current_caller(app)))


@app.post("/users/me/mfa/totp", responses=documented(200, TotpEnrolment, 400, 401, 403, 409))
def start_totp(request: OptionalReauthentication = None) -> Response[dict[str, Any]]:
    return _private(mfa_service().start_totp(current_caller(app), _password(request)))


@app.post("/users/me/mfa/totp/confirm", responses=documented(200, RecoveryCodes, 400, 401, 409))
def confirm_totp(request: ConfirmTotpRequest) -> Response[dict[str, Any]]:
    return _private(mfa_service().confirm_totp(current_caller(app), request.code))


@app.delete("/users/me/mfa/totp", responses=documented(204, None, 400, 401, 403, 409))
def disable_totp(request: OptionalReauthentication = None) -> Response[None]:
    mfa_service().disable_totp(current_caller(app), _password(request))
    return Response(status_code=204)


@app.post(
    "/users/me/mfa/recovery-codes", responses=documented(200, RecoveryCodes, 400, 401, 403, 409)
)
def new_recovery_codes(request: OptionalReauthentication = None) -> Response[dict[str, Any]]:
    return _private(mfa_service().new_recovery_codes(current_caller(app), _password(request)))


@app.delete("/users/<user_id>/mfa", responses=documented(204, None, 401, 403, 404, 409))
def reset_mfa(user_id: str) -> Response[None]:
    mfa_service().reset_by_admin(current_caller(app), user_id)
    return Response(status_code=204)


handler = lambda_handler(app)
