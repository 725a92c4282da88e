"""The caller's passkeys (register, list, rename, remove) and going passwordless."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic.json_schema import SkipJsonSchema

from domain.passkeys import (
    CeremonyOptions,
    Passkey,
    PasskeyList,
    RegisterPasskeyRequest,
    RegistrationOptionsRequest,
    RenamePasskeyRequest,
)
from handlers.actors import current_caller
from handlers.dependencies import passkey_service
from handlers.http import (
    NO_STORE,
    create_resolver,
    documented,
    lambda_handler,
    refuse_non_object_body,
)
from handlers.router import Body, Response, content_types

app = create_resolver()


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
        headers={**NO_STORE, **(headers or {})},
    )


@app.post(
    "/users/me/passkeys/options",
    responses=documented(200, CeremonyOptions, 400, 401, 403, 409),
    description="Options for navigator.credentials.create(): a discoverable credential with user "
    "verification, never on an authenticator holding one of the caller's passkeys. Needs "
    'recent authentication (403 "Reauthentication required"); 409 at the passkey limit.',
)
def registration_options(
    request: Annotated[RegistrationOptionsRequest | SkipJsonSchema[None], Body()] = None,
) -> Response[Any]:
    refuse_non_object_body(app)
    password = request.current_password if request else None
    options = passkey_service().registration_options(
        current_caller(app), password.get_secret_value() if password else None
    )
    return _json(options)


@app.post(
    "/users/me/passkeys",
    responses=documented(201, Passkey, 400, 401, 409),
    description="Verifies what navigator.credentials.create() answered and keeps the passkey; "
    "400 (one body) if it does not verify or its challenge was used, expired or is not the "
    "caller's. The user is mailed.",
)
def register_passkey(request: RegisterPasskeyRequest) -> Response[Any]:
    passkey = passkey_service().register(current_caller(app), request)
    return _json(passkey, 201, {"Location": f"/users/me/passkeys/{passkey.id}"})


@app.get("/users/me/passkeys", responses=documented(200, PasskeyList, 401))
def list_passkeys() -> Response[Any]:
    return _json(PasskeyList(items=passkey_service().list_passkeys(current_caller(app))))


@app.patch("/users/me/passkeys/<passkey_id>", responses=documented(200, Passkey, 400, 401, 404))
def rename_passkey(passkey_id: str, request: RenamePasskeyRequest) -> Response[Any]:
    return _json(passkey_service().rename(current_caller(app), passkey_id, request.name))


@app.delete(
    "/users/me/passkeys/<passkey_id>",
    responses=documented(204, None, 401, 403, 404, 409),
    description='Needs step-up (403 "Reauthentication required"); 409 when it is the '
    "caller's last way to sign in. The user is mailed.",
)
def remove_passkey(passkey_id: str) -> Response[None]:
    passkey_service().remove(current_caller(app), passkey_id)
    return Response(status_code=204)


@app.delete(
    "/users/me/password",
    responses=documented(204, None, 401, 403, 409),
    description='Go passwordless: password logins stop working ("Forgot password" sets one '
    'again). Needs step-up (403 "Reauthentication required"); 409 without a passkey that '
    "signs in. The user is mailed.",
)
def remove_password() -> Response[None]:
    passkey_service().remove_password(current_caller(app))
    return Response(status_code=204)


handler = lambda_handler(app)
