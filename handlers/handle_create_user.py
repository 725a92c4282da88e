"""POST /users: register, idempotent on the Idempotency-Key header."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from domain.users import Registration, User
from handlers.dependencies import user_service
from handlers.http import create_resolver, documented, lambda_handler, user_response
from handlers.observability import metrics
from handlers.registration_idempotency import IDEMPOTENCY_ERRORS, registered, with_lambda_context
from handlers.router import Header, Response
from handlers.source_guard import limited_by_source

app = create_resolver(IDEMPOTENCY_ERRORS)


@app.post("/users", responses=documented(201, User, 400, 409, 422, 429))
def create_user(
    registration: Registration,
    idempotency_key: Annotated[
        Annotated[str, StringConstraints(min_length=1, max_length=200)] | SkipJsonSchema[None],
        Header(alias="idempotency-key"),
    ] = None,
) -> Response[dict[str, Any]]:
    with limited_by_source(app, "register") as source:
        body = registered(
            registration,
            idempotency_key,
            source,
            register=_register,
            password_matches=_password_matches,
        )
    user = User.model_validate(body)
    return user_response(user, HTTPStatus.CREATED, headers={"Location": f"/users/{user.id}"})


def _register(registration: Registration, source: str) -> dict[str, Any]:
    user = user_service().register(registration, source)
    metrics.add_metric(name="UserRegistered", unit="Count", value=1)
    return user.model_dump(mode="json")


def _password_matches(user_id: str, password: str) -> bool:
    return user_service().check_replayed_password(user_id, password).accepted


handler = with_lambda_context(lambda_handler(app))
