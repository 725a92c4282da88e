"""Template parameters given as `sam deploy --parameter-overrides` takes them, checked as
CloudFormation checks them.

Both of SAM's forms are read: ``Key=Value`` and ``ParameterKey=Key,ParameterValue=Value``. Each
value must satisfy the parameter's declaration (``Type: Number``, ``MinValue``/``MaxValue``,
``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength``), as CloudFormation refuses a
deploy otherwise; a name the template does not declare is refused too, and so is one the
application fixes for its local stack (``fixed``: name → why).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from samlocal.template import Template

_LONG_FORM = re.compile(r"^ParameterKey=([^,]+),ParameterValue=(.*)$", re.DOTALL)


class ParameterError(ValueError):
    """An override the template would not take; the message says which and why."""


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["A=1", "ParameterKey=B,ParameterValue=x"]`` → ``{"A": "1", "B": "x"}`` (later wins)."""
    overrides: dict[str, str] = {}
    for item in items:
        long_form = _LONG_FORM.match(item)
        if long_form:
            name, value = long_form.group(1), long_form.group(2)
        else:
            name, separator, value = item.partition("=")
            if not separator:
                raise ParameterError(f"{item!r}: expected Key=Value")
        if not name.strip():
            raise ParameterError(f"{item!r}: the parameter name is empty")
        overrides[name.strip()] = value
    return overrides


def checked_overrides(
    template: Template, overrides: Mapping[str, str], fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The overrides, once each names a declared parameter that is not ``fixed`` and satisfies
    its declaration."""
    declared: dict[str, dict[str, Any]] = template.body.get("Parameters", {})
    for name, value in overrides.items():
        if fixed and name in fixed:
            raise ParameterError(f"{name}: {fixed[name]}")
        if name not in declared:
            known = ", ".join(sorted(declared))
            raise ParameterError(f"{name}: the template declares no such parameter ({known})")
        problem = _problem(declared[name], value)
        if problem:
            raise ParameterError(f"{name}={value!r}: {problem}")
    return dict(overrides)


def _problem(spec: Mapping[str, Any], value: str) -> str | None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return f"must be one of {', '.join(str(v) for v in allowed)}"
    if spec.get("Type") == "Number":
        return _number_problem(spec, value)
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        return f"must match {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must be at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"must be at most {spec['MaxLength']} characters"
    return None


def _number_problem(spec: Mapping[str, Any], value: str) -> str | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return "must be a number"
    if not number.is_finite():
        return "must be a number"
    if "MinValue" in spec and number < Decimal(str(spec["MinValue"])):
        return f"must be at least {spec['MinValue']}"
    if "MaxValue" in spec and number > Decimal(str(spec["MaxValue"])):
        return f"must be at most {spec['MaxValue']}"
    return None
