"""Custom attributes: two JSON maps on every user, ``metadata`` (the user writes it) and
``app_metadata`` (admins and operators write it; the user reads it).

A PATCH merges into a map per key as RFC 7396 (JSON Merge Patch) says: a key sent as null is
deleted, an object merges into an object, anything else replaces. What is stored stays within the
deployer's limits (template parameters: bytes of compact UTF-8 JSON, nesting depth, keys counted
at every level) and, when the deployer provides one, a JSON Schema. Checked without recursion, so
no input, however nested, can exhaust the stack.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.errors import AccessDenied, InvalidInput

METADATA_FIELDS = ("metadata", "app_metadata")
USER_WRITABLE = "metadata"
ADMIN_WRITABLE = "app_metadata"
MAX_KEY_LENGTH = 128
"""Characters in one key: names, not payloads."""

JsonMap = dict[str, Any]


@dataclass(frozen=True)
class MetadataLimits:
    """Per map. The defaults are the template parameters' (MetadataMaxBytes, ...)."""

    max_bytes: int = 4096
    max_depth: int = 5
    max_keys: int = 50


SchemaCheck = Callable[[JsonMap], list[str]]
"""Problems a deployer's JSON Schema finds in a map (empty: valid)."""


def compact_json(value: Any) -> str:
    """How a map is stored and measured: compact, keys sorted, non-ASCII kept as UTF-8."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _text_problem(text: str, what: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} holds a lone surrogate (not valid Unicode)"
    return None


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str) or not key:
        return "keys must be non-empty strings"
    if len(key) > MAX_KEY_LENGTH:
        return f"keys are at most {MAX_KEY_LENGTH} characters"
    if any(unicodedata.category(character) in ("Cc", "Cf") for character in key):
        return "keys may not hold control or format characters"
    return _text_problem(key, "a key")


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return _text_problem(value, "a string")
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite"
    if value is None or isinstance(value, bool | int | float | dict | list):
        return None
    return f"{type(value).__name__} is not a JSON value"


def structure_problems(value: Any, limits: MetadataLimits) -> list[str]:
    """What makes ``value`` no acceptable map: its type, keys, values, depth and key count. A walk
    with an explicit stack that stops past the depth limit."""
    if not isinstance(value, dict):
        return ["must be a JSON object"]
    problems: list[str] = []
    keys = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limits.max_depth:
            return [f"is nested deeper than {limits.max_depth} levels"]
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            if isinstance(node, dict):
                keys += 1
                problem = _key_problem(key)
                if problem:
                    problems.append(problem)
            problem = _value_problem(child)
            if problem:
                problems.append(problem)
            elif isinstance(child, dict | list):
                pending.append((child, depth + 1))
    if keys > limits.max_keys:
        problems.append(f"has {keys} keys; at most {limits.max_keys} (counted at every level)")
    return sorted(set(problems))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target`` (neither is changed). Called on patches already
    checked against the depth limit, so its recursion is bounded."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def changed_keys(before: JsonMap, after: JsonMap) -> list[str]:
    """Top-level keys added, removed or changed, sorted."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


@dataclass(frozen=True)
class MetadataPolicy:
    """The deployer's limits and optional schemas for both maps."""

    limits: MetadataLimits = field(default_factory=MetadataLimits)
    schemas: dict[str, SchemaCheck] = field(default_factory=dict)
    """By map name; a map without one takes any object within the limits."""

    def validated(self, name: str, value: Any) -> JsonMap:
        """``value`` as the stored map ``name``; InvalidInput (422) naming every problem."""
        problems = structure_problems(value, self.limits)
        if not problems:
            size = len(compact_json(value).encode("utf-8"))
            if size > self.limits.max_bytes:
                problems = [f"is {size} bytes as JSON; at most {self.limits.max_bytes}"]
        check = self.schemas.get(name)
        if not problems and check is not None:
            problems = check(value)
        if problems:
            raise InvalidInput(
                f"{name} is invalid", [{"location": name, "problem": p} for p in problems]
            )
        result: JsonMap = value
        return result

    def patched(self, name: str, current: JsonMap, patch: Any) -> JsonMap:
        """The map after a PATCH: ``patch`` null clears it, an object merges into it."""
        if patch is None:
            return {}
        problems = structure_problems(patch, self.limits)
        if problems:
            raise InvalidInput(
                f"{name} is invalid", [{"location": name, "problem": p} for p in problems]
            )
        return self.validated(name, merge_patch(current, patch))


def ensure_may_write(name: str, is_admin: bool) -> None:
    """Users write their ``metadata``; ``app_metadata`` is for admins (and operators' tools)."""
    if name == ADMIN_WRITABLE and not is_admin:
        raise AccessDenied("app_metadata can be written by admins only")


def json_schema_check(schema_text: str) -> SchemaCheck:
    """A check against a deployer's JSON Schema (any draft jsonschema knows, by ``$schema``;
    2020-12 otherwise). ValueError when the schema itself is invalid. jsonschema is imported only
    by deployments that provide a schema."""
    import jsonschema  # type: ignore[import-untyped]  # no stubs published

    try:
        schema = json.loads(schema_text)
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        validator_class.check_schema(schema)
    except (ValueError, jsonschema.SchemaError) as error:
        raise ValueError(f"not a valid JSON Schema: {error}") from None
    validator = validator_class(schema)

    def check(value: JsonMap) -> list[str]:
        return sorted(
            f"{'/'.join(str(p) for p in error.absolute_path) or '(the map)'}: {error.message}"
            for error in validator.iter_errors(value)
        )[:10]

    return check
