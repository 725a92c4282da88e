"""What every API function shares: the router with its error table, the responses and the entry
point (the caller: handlers/actors.py)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

from domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    EmailAlreadyExists,
    InvalidCursor,
    InvalidInput,
    InvalidMfaCode,
    InvalidPrecondition,
    InvalidRecoveryToken,
    LastAdmin,
    LastSignInMethod,
    MfaStateConflict,
    PasskeyLimitReached,
    PasskeyNotFound,
    PasskeyNotRegistered,
    PasswordPolicyViolation,
    SearchUnavailable,
    TooManyRequests,
    UserflowError,
    UserNotFound,
    VersionConflict,
    WriteContention,
)
from domain.users import User
from handlers.cold_start import started
from handlers.observability import logger, metrics, traced
from handlers.router import (
    NotFound,
    RequestUnsupportedContentType,
    RequestValidationError,
    Response,
    Router,
    content_types,
)
from handlers.validation_messages import Problem, problems

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    InvalidPrecondition: HTTPStatus.BAD_REQUEST,
    InvalidRecoveryToken: HTTPStatus.BAD_REQUEST,
    InvalidMfaCode: HTTPStatus.BAD_REQUEST,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    AuthenticationFailed: HTTPStatus.UNAUTHORIZED,
    AccessDenied: HTTPStatus.FORBIDDEN,
    UserNotFound: HTTPStatus.NOT_FOUND,
    EmailAlreadyExists: HTTPStatus.CONFLICT,
    LastAdmin: HTTPStatus.CONFLICT,
    WriteContention: HTTPStatus.CONFLICT,
    MfaStateConflict: HTTPStatus.CONFLICT,
    VersionConflict: HTTPStatus.PRECONDITION_FAILED,
    PasswordPolicyViolation: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidCursor: HTTPStatus.UNPROCESSABLE_ENTITY,
    SearchUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    PasskeyNotRegistered: HTTPStatus.BAD_REQUEST,
    PasskeyNotFound: HTTPStatus.NOT_FOUND,
    PasskeyLimitReached: HTTPStatus.CONFLICT,
    LastSignInMethod: HTTPStatus.CONFLICT,
}


class ErrorBody(BaseModel):
    """Every error this API answers with."""

    # Documents the error shape in the OpenAPI document: no function builds its validator.
    model_config = ConfigDict(defer_build=True)

    message: str
    details: list[Problem] | SkipJsonSchema[None] = None


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def documented(success: int, model: type[BaseModel] | None, *errors: int) -> dict[int, Any]:
    """OpenAPI ``responses`` for a route: its success body and the error statuses it can answer.

    422 and 415 are always listed: request validation can refuse any route, and so can a body
    sent as anything but JSON (``refuse_non_json_body``), in this API's error shape.
    Every route that writes lists 409: a record other requests keep writing meanwhile
    (adapters/dynamodb_conflicts.py)."""
    error_content = {"application/json": {"model": ErrorBody}}
    responses: dict[int, Any] = {
        status: {"description": HTTPStatus(status).phrase, "content": error_content}
        for status in sorted(
            {*errors, HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.UNSUPPORTED_MEDIA_TYPE}
        )
    }
    if HTTPStatus.TOO_MANY_REQUESTS in responses:
        responses[HTTPStatus.TOO_MANY_REQUESTS]["headers"] = RETRY_AFTER
    # No model: no body (an empty content map, else Powertools documents the return annotation).
    responses[success] = {"description": HTTPStatus(success).phrase, "content": {}}
    if model is not None:
        responses[success]["content"] = {"application/json": {"model": model}}
    return responses


def error_response(
    status: HTTPStatus,
    message: str,
    details: object | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body: dict[str, object] = {"message": message}
    if details is not None:
        body["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers or None,
    )


def _handle_domain_error(error: UserflowError) -> Response[Any]:
    status = next(ERROR_STATUS[kind] for kind in type(error).__mro__ if kind in ERROR_STATUS)
    headers = {}
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return error_response(status, error.message, error.details, headers)


def _refuse(status: HTTPStatus, message: str, error: Exception) -> Response[Any]:
    return error_response(status, message)


def _handle_validation_error(error: RequestValidationError) -> Response[Any]:
    found = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in found):
        reasons = [str(problem.get("ctx", {}).get("error", "")) for problem in found]
        details = [{"location": "body", "problem": reason} for reason in reasons if reason]
        return error_response(HTTPStatus.BAD_REQUEST, "Request body is not valid JSON", details)
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "Invalid request", problems(found))


SEND_JSON = "Send the body as JSON (Content-Type: application/json)"


def _handle_unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, SEND_JSON)


def refuse_non_json_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 415 for a body sent as anything but JSON, before the router reads the body (it takes
    JSON, and empty form data as Powertools' resolver did)."""
    headers = event.get("headers") or {}
    content_type = str(headers.get("content-type", "")).strip().lower()
    body = event.get("body")
    if not body:
        return None
    if content_type and not content_type.startswith("application/json"):
        return _refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, SEND_JSON)
    if event.get("isBase64Encoded"):
        # Without a content type API Gateway base64-encodes the body; the router decodes it as
        # UTF-8 unguarded.
        try:
            base64.b64decode(str(body), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return _refusal(HTTPStatus.BAD_REQUEST, "Request body is not valid JSON")
    return None


def _refusal(status: HTTPStatus, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def _handle_not_found(error: NotFound) -> Response[Any]:
    """A path API Gateway sent here that none of this function's routes takes (a trailing slash,
    quotes or emoji in an id): the same answer as API Gateway's own for an unknown route."""
    return error_response(HTTPStatus.NOT_FOUND, "Not Found")


def parse_json_body(text: str) -> Any:
    """``json.loads``, but a body nested deeper than the parser's recursion limit, or holding a
    number longer than Python converts, is invalid JSON (a 400), not a crash."""
    try:
        return json.loads(text)
    except RecursionError as error:
        raise json.JSONDecodeError("nested too deeply", text, 0) from error
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # an integer of more than 4300 digits
        raise json.JSONDecodeError(str(error), text, 0) from error


def create_resolver(
    extra_errors: dict[type[Exception], tuple[HTTPStatus, str]] | None = None,
) -> Router:
    """The function's router; ``extra_errors`` adds refusals only that function can meet."""
    app = Router(json_body_deserializer=parse_json_body)
    app.not_found(_handle_not_found)
    app.exception_handler(list(ERROR_STATUS))(_handle_domain_error)
    for kind, (status, message) in (extra_errors or {}).items():
        app.exception_handler(kind)(partial(_refuse, status, message))
    app.exception_handler(RequestValidationError)(_handle_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_handle_unsupported_content_type)
    return app


def refuse_non_object_body(app: Router) -> None:
    """For a route whose body is optional: the router reads a JSON array sent for one model as
    its first item, as Powertools' resolver did (``[null]`` as no body at all). Refused here
    (422), as ``null`` and any other body that is not an object; no body at all is fine."""
    if app.current_event.body and not isinstance(app.current_event.json_body, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "Input should be an object"}]
        )


# Responses carrying tokens (RFC 6749 section 5.1) or users' data must not be cached by anyone.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def etag(version: int) -> str:
    return f'"{version}"'


def user_response(
    user: User, status: HTTPStatus = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    """A user's public view, with its version as the ETag."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=user.model_dump(mode="json"),
        headers={"ETag": etag(user.version), **NO_STORE, **(headers or {})},
    )


IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$'
"""``*``, or one ETag this API returned (``"3"``; weak and unquoted forms are read the same)."""


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match names; only ASCII digits (``"²"`` is a digit to ``str.isdigit``)."""
    if value is None:
        return None
    found = re.fullmatch(IF_MATCH_PATTERN, value.strip(), flags=re.ASCII)
    if found is None:
        raise InvalidPrecondition
    tag = found.group(1)
    return None if tag == "*" else int(tag.removeprefix("W/").strip('"'))


def lambda_handler(
    app: Router,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point of an API function, with logging, tracing and metrics.

    Responses stay out of traces: they carry tokens (login, refresh) and users' data."""

    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return refuse_non_json_body(event) or app.resolve(event, context)
        except Exception:
            # A bug, not a refusal: logged with the API's request id (``correlation_id``) and the
            # caller, then raised, so the function's Errors alarm counts it and API Gateway
            # answers 500 with no detail.
            logger.exception("Unhandled error")
            raise

    entry = traced(handler, capture_response=False)
    # clear_state: the caller's id appended for one request never labels the next one's lines.
    return started(
        logger.inject_lambda_context(
            entry, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
        )
    )
