"""POST /auth/passkey/options and /auth/passkey: signing in with a passkey, without a password."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic.json_schema import SkipJsonSchema

from domain.auth_models import TokenPair
from domain.passkey_assertions import PasskeyRefused
from domain.passkeys import CeremonyOptions, PasskeyAuthenticationRequest, SignInOptionsRequest
from handlers.auth_http import token_response
from handlers.dependencies import passkey_sign_in
from handlers.http import (
    NO_STORE,
    create_resolver,
    documented,
    lambda_handler,
    refuse_non_object_body,
)
from handlers.observability import logger
from handlers.source_guard import limited_by_source

app = create_resolver()


@app.post(
    "/auth/passkey/options",
    responses=documented(200, CeremonyOptions, 400, 429),
    description="Options for navigator.credentials.get() (user verification required). No body: "
    "any discoverable passkey of this site; with an email, that account's passkeys.",
)
def sign_in_options(
    request: Annotated[SignInOptionsRequest | SkipJsonSchema[None], Body()] = None,
) -> Response[Any]:
    refuse_non_object_body(app)
    email = request.email if request else None
    with limited_by_source(app, "passkey_options"):
        options = passkey_sign_in().options(email)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=options.model_dump(mode="json"),
        headers=NO_STORE,
    )


@app.post(
    "/auth/passkey",
    responses=documented(200, TokenPair, 400, 401, 429),
    description="Verifies what navigator.credentials.get() answered: the token pair, with `amr` "
    '`["hwk" or "swk", "user"]`. One 401 body for every refusal (unknown, removed or blocked '
    "passkey, disabled user, wrong origin or RP ID, used or expired challenge, a signature "
    "counter that went backwards).",
)
def sign_in(request: PasskeyAuthenticationRequest) -> Response[dict[str, Any]]:
    try:
        with limited_by_source(app, "passkey_sign_in"):
            pair = passkey_sign_in().sign_in(request.challenge_id, request.credential)
    except PasskeyRefused as refused:
        logger.info(
            "Passkey sign-in refused", extra={"reason": refused.reason, "user_id": refused.user_id}
        )
        raise
    return token_response(pair)


handler = lambda_handler(app)
