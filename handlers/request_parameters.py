"""A route's arguments: where each comes from (path, query, header, body) and how it is validated.

Same rules, same pydantic validation and the same errors as Powertools' request validation
middleware (``enable_validation=True``), which the API functions used before: a parameter named in
the path comes from the path, a model from the JSON body, anything else from the query string,
unless ``Annotated[..., Query(...)]``, ``Header(...)`` or ``Body()`` says where. What validates a
parameter (a pydantic ``TypeAdapter``, or the model itself) is built on the route's first request
and kept for the container's life; a plain ``str`` needs none.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin
from urllib.parse import parse_qs

from pydantic import BaseModel, ValidationError

from handlers.http_event import HttpEvent

# pydantic Field arguments that validate; the others (description, examples...) only document.
VALIDATING = frozenset(
    {
        "gt",
        "ge",
        "lt",
        "le",
        "multiple_of",
        "min_length",
        "max_length",
        "pattern",
        "strict",
        "allow_inf_nan",
        "max_digits",
        "decimal_places",
    }
)
_REQUIRED: Any = inspect.Parameter.empty
_SEQUENCES = (list, tuple, set, frozenset, collections.deque, Sequence)

Error = dict[str, Any]


class RequestValidationError(Exception):
    """The request's arguments do not validate: pydantic's errors, located in the request."""

    def __init__(self, errors: list[Error]) -> None:
        super().__init__(errors)
        self._errors = errors

    def errors(self) -> list[Error]:
        return self._errors


class RequestUnsupportedContentType(Exception):
    """A body sent as neither JSON nor (empty) form data."""


class Param:
    """Where a parameter's value comes from, with pydantic ``Field`` arguments: constraints, and
    what documents it (``description``...) in the OpenAPI document."""

    location: ClassVar[str]

    def __init__(self, default: Any = _REQUIRED, *, alias: str | None = None, **field: Any):
        self.default = default
        self.alias = alias
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r}, **{self.field!r})"


class Path(Param):
    location = "path"


class Query(Param):
    location = "query"


class Header(Param):
    """A request header; without ``alias``, the parameter's name with ``-`` for ``_``."""

    location = "header"

    def __init__(
        self,
        default: Any = _REQUIRED,
        *,
        alias: str | None = None,
        convert_underscores: bool = True,
        **field: Any,
    ) -> None:
        super().__init__(default, alias=alias, **field)
        self.convert_underscores = convert_underscores


class Body(Param):
    """The JSON body; ``embed=True`` (or several body parameters) reads it under the alias."""

    location = "body"

    def __init__(self, default: Any = _REQUIRED, *, embed: bool = False, **field: Any) -> None:
        super().__init__(default, **field)
        self.embed = embed


class Parameter:
    """One argument of a route: where it is read, and its validator, built on first use."""

    def __init__(self, name: str, marker: Param, annotation: Any, default: Any = _REQUIRED) -> None:
        self.name = name
        self.location = marker.location
        self.alias = marker.alias or name
        if isinstance(marker, Header) and not marker.alias and marker.convert_underscores:
            self.alias = name.replace("_", "-").lower()
        self.embed = isinstance(marker, Body) and marker.embed
        self.annotation = annotation
        self.constraints = {k: v for k, v in marker.field.items() if k in VALIDATING}
        self.default = marker.default if default is _REQUIRED else default
        self.required = self.default is _REQUIRED
        self.holds_sequence = _holds_sequence(annotation)
        self._validator: Callable[[Any], Any] | None = None

    def validate(self, value: Any, loc: tuple[str | int, ...], errors: list[Error]) -> Any:
        """``value`` as the handler gets it; pydantic's errors (under ``loc``) go to ``errors``."""
        if self.annotation is str and not self.constraints and type(value) is str:
            return value
        try:
            return self._validate(value)
        except ValidationError as error:
            errors.extend({**e, "loc": loc + tuple(e["loc"])} for e in error.errors())
            return None

    def _validate(self, value: Any) -> Any:
        if self._validator is None:
            self._validator = self._build_validator()
        return self._validator(value)

    def _build_validator(self) -> Callable[[Any], Any]:
        annotation = self.annotation
        if not self.constraints and _is_model(annotation):
            return lambda value: annotation.model_validate(value, from_attributes=True)
        from pydantic import Field, TypeAdapter

        if self.constraints:
            annotation = Annotated[annotation, Field(**self.constraints)]
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        return lambda value: adapter.validate_python(value, from_attributes=True)


class RequestParameters:
    """A route's parameters by location, read from its signature (annotations evaluated)."""

    def __init__(self, func: Callable[..., Any], rule: str) -> None:
        in_path = set(re.findall(r"<(\w+)>", rule))
        hints = typing.get_type_hints(func, include_extras=True)
        self.path: list[Parameter] = []
        self.query: list[Parameter] = []
        self.header: list[Parameter] = []
        self.body: list[Parameter] = []
        for name, signature_parameter in inspect.signature(func).parameters.items():
            parameter = _parameter(
                name, hints.get(name, Any), signature_parameter.default, name in in_path
            )
            getattr(self, parameter.location).append(parameter)

    def bind(self, event: HttpEvent, path_arguments: Mapping[str, str]) -> dict[str, Any]:
        """The handler's keyword arguments; raises :class:`RequestValidationError` with every
        error (a body that is not JSON: that error alone)."""
        values: dict[str, Any] = {}
        errors: list[Error] = []
        _read(self.path, path_arguments, values, errors)
        _read(self.query, _query_values(event, self.query), values, errors)
        _read(self.header, _header_values(event, self.header), values, errors)
        if self.body:
            _read_body(self.body, _body(event), values, errors)
        if errors:
            raise RequestValidationError(errors)
        return values


def _parameter(name: str, annotation: Any, default: Any, in_path: bool) -> Parameter:
    marker: Param | None = None
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        markers = [m() if isinstance(m, type) and issubclass(m, Param) else m for m in metadata]
        found = [m for m in markers if isinstance(m, Param)]
        foreign = [m for m in metadata if type(m).__module__.startswith("aws_lambda_powertools")]
        if foreign:
            raise TypeError(
                f"{name}: use Query, Header, Path or Body from handlers.router, not {foreign[0]!r}"
            )
        if len(found) > 1:
            raise TypeError(f"{name}: one of Query, Header, Path or Body at most")
        if found:
            marker = found[0]
            others = [m for m in metadata if m is not marker and not isinstance(m, Param)]
            others = [m for m in others if not (isinstance(m, type) and issubclass(m, Param))]
            annotation = Annotated[(inner, *others)] if others else inner
    if marker is None:
        if in_path:
            marker = Path()
        elif _is_complex(annotation):
            marker = Body()
        else:
            marker = Query()
    if in_path != isinstance(marker, Path):
        raise TypeError(f"{name}: a path parameter is named in the route, and only then")
    if not isinstance(marker, Body) and _is_complex(annotation):
        raise TypeError(f"{name}: only scalar path, query and header parameters are supported")
    return Parameter(name, marker, annotation, default)


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


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType)


def _is_sequence(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and not issubclass(annotation, (str, bytes))
        and issubclass(annotation, _SEQUENCES)
    )


def _complex_type(annotation: Any) -> bool:
    return (
        isinstance(annotation, type) and issubclass(annotation, (BaseModel, Mapping))
    ) or _is_sequence(annotation)


def _is_complex(annotation: Any) -> bool:
    """A model, mapping, sequence or dataclass (or a union with one): read from the body."""
    if _is_union(annotation):
        return any(_is_complex(arg) for arg in get_args(annotation))
    origin = get_origin(annotation)
    return (
        _complex_type(annotation)
        or _complex_type(origin)
        or dataclasses.is_dataclass(annotation)
        or hasattr(origin, "__pydantic_core_schema__")
        or hasattr(origin, "__get_pydantic_core_schema__")
    )


def _holds_sequence(annotation: Any) -> bool:
    if _is_sequence(annotation) or _is_sequence(get_origin(annotation)):
        return True
    if _is_union(annotation):
        return any(_holds_sequence(arg) for arg in get_args(annotation))
    if _is_model(annotation) and getattr(annotation, "__pydantic_root_model__", False):
        return _holds_sequence(annotation.model_fields["root"].annotation)
    return False
