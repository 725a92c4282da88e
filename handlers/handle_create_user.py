"""POST /users: register, idempotent on the Idempotency-Key header."""

from __future__ import annotations

from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.base import (
    BaseIdempotencySerializer,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import StringConstraints
from pydantic.json_schema import SkipJsonSchema

from adapters.aws_clients import client
from domain.users import Registration, User
from handlers.dependencies import user_service
from handlers.http import (
    create_resolver,
    documented,
    idempotency_errors,
    lambda_handler,
    user_response,
)
from handlers.observability import metrics
from handlers.settings import TableSettings, load
from handlers.snapstart import on_restore
from handlers.source_guard import limited_by_source

app = create_resolver(idempotency_errors())


@dataclass(frozen=True)
class Registered:
    """The response body of a registration, and whether it replays an earlier request's."""

    body: dict[str, Any]
    replayed: bool = False


class BodyOnly(BaseIdempotencySerializer):
    """The idempotency record stores the response body alone."""

    def to_dict(self, data: Registered) -> dict[str, Any]:
        return data.body

    def from_dict(self, data: dict[str, Any]) -> Registered:
        return Registered(data)


def mark_replayed(response: Registered, idempotent_data: DataRecord) -> Registered:
    """Powertools calls this only for a response it read back from the idempotency record."""
    return replace(response, replayed=True)


idempotency_config = IdempotencyConfig(
    event_key_jmespath="key",
    # The password is left out: the validation hash is stored and must not help guess it.
    payload_validation_jmespath="registration",
    expires_after_seconds=24 * 3600,
    response_hook=mark_replayed,
)
persistence = DynamoDBPersistenceLayer(
    table_name=load(TableSettings).table_name,
    key_attr="PK",
    sort_key_attr="SK",
    expiry_attr="expires_at",
)
# Its client was made during INIT: a SnapStart restore gets a new one (handlers/snapstart.py).
on_restore(lambda: setattr(persistence, "client", client("dynamodb")))


def _register(registration: Registration, source: str) -> dict[str, Any]:
    user = user_service().register(registration, source)
    metrics.add_metric(name="UserRegistered", unit="Count", value=1)
    return user.model_dump(mode="json")


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="request",
    config=idempotency_config,
    persistence_store=persistence,
    output_serializer=BodyOnly(),
)
def _register_once(request: dict[str, Any], registration: Registration, source: str) -> Registered:
    return Registered(_register(registration, source))


@app.post("/users", responses=documented(201, User, 400, 409, 422, 429))
def create_user(
    registration: Registration,
    idempotency_key: Annotated[
        Annotated[str, StringConstraints(min_length=1, max_length=200)] | SkipJsonSchema[None],
        Header(alias="idempotency-key"),
    ] = None,
) -> Response[dict[str, Any]]:
    with limited_by_source(app, "register") as source:
        body = _registered(registration, idempotency_key, source)
    user = User.model_validate(body)
    return user_response(user, HTTPStatus.CREATED, headers={"Location": f"/users/{user.id}"})


def _registered(registration: Registration, idempotency_key: str | None, source: str) -> Any:
    """The new user's body, or the first response to this Idempotency-Key."""
    if not idempotency_key:
        return _register(registration, source)
    request = {
        "key": idempotency_key,
        "registration": registration.model_dump(mode="json", exclude={"password"}),
    }
    registered: Registered = _register_once(
        request=request, registration=registration, source=source
    )
    # The stored fingerprint leaves the password out (it must not help guess it), so a replay
    # proves it like a login, throttle included: a different password is a different body.
    if (
        registered.replayed
        and not user_service()
        .check_replayed_password(registered.body["id"], registration.password.get_secret_value())
        .accepted
    ):
        raise IdempotencyValidationError
    return registered.body


_entry = lambda_handler(app)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return _entry(event, context)
