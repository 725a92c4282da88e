"""A route's parameters: where each comes from (path, query, header, body) and how it is validated
(handlers/request_arguments.py reads them from a request).

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
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

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
