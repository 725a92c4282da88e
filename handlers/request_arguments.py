"""A request's arguments for its route's parameters (handlers/request_parameters.py): read from
the path, the query string, the headers and the body as API Gateway sends them, and validated.

Loaded by a function's first request, not while it starts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from handlers.http_event import HttpEvent
from handlers.request_parameters import (
    Error,
    Parameter,
    RequestParameters,
    RequestUnsupportedContentType,
    RequestValidationError,
)


def bind(
    parameters: RequestParameters, event: HttpEvent, path_arguments: Mapping[str, str]
) -> dict[str, Any]:
    """The handler's keyword arguments; raises :class:`RequestValidationError` with every
    error (a body that is not JSON: that error alone)."""
    values: dict[str, Any] = {}
    errors: list[Error] = []
    _read(parameters.path, path_arguments, values, errors)
    _read(parameters.query, _query_values(event, parameters.query), values, errors)
    _read(parameters.header, _header_values(event, parameters.header), values, errors)
    if parameters.body:
        _read_body(parameters.body, _body(event), values, errors)
    if errors:
        raise RequestValidationError(errors)
    return values


def _read(
    parameters: list[Parameter],
    received: Mapping[str, Any],
    values: dict[str, Any],
    errors: list[Error],
) -> None:
    for parameter in parameters:
        loc = (parameter.location, parameter.alias)
        value = received.get(parameter.alias)
        if value is None:
            _missing(parameter, loc, values, errors)
            continue
        values[parameter.name] = parameter.validate(value, loc, errors)


def _missing(
    parameter: Parameter, loc: tuple[str | int, ...], values: dict[str, Any], errors: list[Error]
) -> None:
    if parameter.required:
        errors.append({"type": "missing", "loc": loc, "msg": "Field required", "input": None})
    else:
        values[parameter.name] = parameter.default


def _query_values(event: HttpEvent, parameters: list[Parameter]) -> dict[str, Any]:
    """API Gateway joins a repeated query parameter's values with commas: a name repeated in the
    raw query string is read as the list of its values, any other as sent."""
    if not parameters:
        return {}
    raw = event.raw_query_string
    repeated = {k for k, v in parse_qs(raw, keep_blank_values=True).items() if len(v) > 1}
    values: dict[str, Any] = {}
    for name, value in event.query_string_parameters.items():
        parts = value.split(",")
        values[name] = parts if len(parts) > 1 and name in repeated else value
    return values


def _header_values(event: HttpEvent, parameters: list[Parameter]) -> Mapping[str, Any]:
    return event.headers if parameters else {}


def _body(event: HttpEvent) -> Any:
    """The body as the route's body parameters read it: JSON, or (empty) form data."""
    content_type = event.headers.get("content-type", "").strip()
    if not content_type or content_type.startswith("application/json"):
        try:
            return event.json_body
        except json.JSONDecodeError as error:
            invalid = {
                "type": "json_invalid",
                "loc": ("body", error.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": error.msg},
            }
            raise RequestValidationError([invalid]) from error
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qs(event.decoded_body or "", keep_blank_values=True)
    multipart = content_type.startswith("multipart/form-data") and "boundary=" in content_type
    if multipart and not event.body:
        return {}  # a multipart body is refused before (refuse_non_json_body), an empty one read
    raise RequestUnsupportedContentType(content_type)


def _read_body(
    parameters: list[Parameter], body: Any, values: dict[str, Any], errors: list[Error]
) -> None:
    """One body parameter takes the whole body (errors at ``body.<field>``); several, or an
    embedded one, each take the body's member named by their alias."""
    whole = len(parameters) == 1 and not parameters[0].embed
    received = {parameters[0].alias: body} if whole else body
    for parameter in parameters:
        loc: tuple[str | int, ...] = ("body",) if whole else ("body", parameter.alias)
        value = None
        if received is not None:
            try:
                value = received.get(parameter.alias)
            except AttributeError:
                errors.append({"type": "missing", "loc": loc, "msg": "Field required"})
        if value is None:
            _missing(parameter, loc, values, errors)
            continue
        if isinstance(value, list) and value and not parameter.holds_sequence:
            value = value[0]  # as Powertools reads it: a list sent for an object is its first item
        values[parameter.name] = parameter.validate(value, loc, errors)
