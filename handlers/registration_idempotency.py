"""Registration's Idempotency-Key (POST /users), on Powertools idempotency: the first response to
a key is stored (its body alone) for a day and answered again to a replay of the same body.

Only the registration function imports this module: the idempotency utility costs every other
function's cold start ~50 ms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.base import (
    BaseIdempotencySerializer,
)

from adapters.aws_clients import client
from handlers.settings import TableSettings, load
from handlers.snapstart import on_restore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from domain.users import Registration

Register = Callable[["Registration", str], dict[str, Any]]
"""Registers a user (the registration, the request's source) and answers the response body."""
CheckPassword = Callable[[str, str], bool]
"""Whether a password (second) is the one of the user registered with this id (first)."""

# Powertools idempotency's refusals, in the API's error table of the registration function.
IDEMPOTENCY_ERRORS: dict[type[Exception], tuple[HTTPStatus, str]] = {
    IdempotencyAlreadyInProgressError: (
        HTTPStatus.CONFLICT,
        "A request with this Idempotency-Key is still in progress",
    ),
    IdempotencyValidationError: (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "This Idempotency-Key was already used with a different body",
    ),
}


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
    # The function's own client (a second one would cost every cold start ~60 ms more).
    boto3_client=client("dynamodb"),
)
# Its client was made during INIT: a SnapStart restore gets a new one (handlers/snapstart.py).
on_restore(lambda: setattr(persistence, "client", client("dynamodb")))


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="request",
    config=idempotency_config,
    persistence_store=persistence,
    output_serializer=BodyOnly(),
)
def _register_once(
    request: dict[str, Any], registration: Registration, source: str, register: Register
) -> Registered:
    return Registered(register(registration, source))


def registered(
    registration: Registration,
    idempotency_key: str | None,
    source: str,
    *,
    register: Register,
    password_matches: CheckPassword,
) -> dict[str, Any]:
    """The new user's body, or the first response to this Idempotency-Key."""
    if not idempotency_key:
        return register(registration, source)
    request = {
        "key": idempotency_key,
        "registration": registration.model_dump(mode="json", exclude={"password"}),
    }
    done: Registered = _register_once(
        request=request, registration=registration, source=source, register=register
    )
    # The stored fingerprint leaves the password out (it must not help guess it), so a replay
    # proves it like a login, throttle included: a different password is a different body.
    password = registration.password.get_secret_value()
    if done.replayed and not password_matches(done.body["id"], password):
        raise IdempotencyValidationError
    return done.body


Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


def with_lambda_context(entry: Handler) -> Handler:
    """``entry``, telling the idempotency utility each invocation's context (its remaining time
    bounds how long a record stays "in progress")."""

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        idempotency_config.register_lambda_context(context)
        return entry(event, context)

    return handler
