"""Custom attributes (``metadata``, ``app_metadata``): merge-patch semantics, who may write which
map, the deployer's limits and schema, and hostile input; on in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.errors import AccessDenied, InvalidInput
from domain.metadata import MetadataLimits, MetadataPolicy, json_schema_check, merge_patch
from domain.password_guard import PasswordGuard
from domain.user_service import UserService
from domain.users import UserPatch
from tests.support.in_memory_backend import Clock, InMemoryBackend

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend(Clock(NOW))


def _service(backend: InMemoryBackend, policy: MetadataPolicy | None = None) -> UserService:
    guard = PasswordGuard(backend.login_state, backend.hasher, clock=backend.clock)
    return UserService(
        backend.users, backend.hasher, clock=backend.clock, password_guard=guard, metadata=policy
    )


def _patch(**fields: Any) -> UserPatch:
    return UserPatch.model_validate(fields)


def test_given_rfc7396_examples_when_merged_then_the_rfc_results_come_out() -> None:
    """RFC 7396, section 3's example, and its appendix's null and non-object cases."""
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "t": [1]}
    patch = {"title": "Hello!", "phoneNumber": "+01-123", "author": {"familyName": None}, "t": [2]}

    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "t": [2],
        "phoneNumber": "+01-123",
    }
    assert merge_patch({"a": "b"}, {"a": {"b": None}}) == {"a": {}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert target["author"] == {"givenName": "John", "familyName": "Doe"}  # not changed


def test_given_a_user_when_patching_metadata_then_keys_merge_and_null_deletes(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    service, caller = _service(backend), backend.caller(user)

    first = service.update(caller, "me", _patch(metadata={"plan": "pro", "crm": {"id": 7}}))
    second = service.update(caller, "me", _patch(metadata={"plan": None, "crm": {"tier": "a"}}))
    cleared = service.update(caller, "me", _patch(metadata=None))

    assert first.metadata == {"plan": "pro", "crm": {"id": 7}}
    assert second.metadata == {"crm": {"id": 7, "tier": "a"}}
    assert second.version == first.version + 1
    assert cleared.metadata == {}


def test_given_an_unchanged_merge_when_patching_then_no_new_version(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    service, caller = _service(backend), backend.caller(user)
    first = service.update(caller, "me", _patch(metadata={"plan": "pro"}))

    again = service.update(caller, "me", _patch(metadata={"plan": "pro", "gone": None}))

    assert again.version == first.version


def test_given_a_user_when_writing_app_metadata_then_denied_and_nothing_changes(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()

    with pytest.raises(AccessDenied, match="admins only"):
        _service(backend).update(backend.caller(user), "me", _patch(app_metadata={"plan": "x"}))

    assert backend.users.get(user.id).user == user


def test_given_an_admin_when_writing_a_users_app_metadata_then_the_user_reads_it(
    backend: InMemoryBackend,
) -> None:
    user = backend.register()
    admin = backend.register(email="admin@example.com", name="Admin")
    service = _service(backend)

    service.update(backend.caller(admin, admin=True), user.id, _patch(app_metadata={"tier": 2}))

    assert service.get(backend.caller(user), "me").app_metadata == {"tier": 2}


def test_given_registration_with_metadata_then_it_is_stored_and_app_metadata_is_refused(
    backend: InMemoryBackend,
) -> None:
    from pydantic import ValidationError

    from domain.users import Registration

    body = {"email": "cy@example.com", "password": "correct horse battery", "name": "Cy"}
    user = _service(backend).register(Registration.model_validate({**body, "metadata": {"a": 1}}))

    assert user.metadata == {"a": 1}
    with pytest.raises(ValidationError):
        Registration.model_validate({**body, "app_metadata": {"a": 1}})


LIMITS = MetadataLimits(max_bytes=64, max_depth=3, max_keys=4)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"k": "x" * 100}, "bytes as JSON; at most 64"),
        ({"é": "€" * 20}, "bytes as JSON; at most 64"),  # bytes, not characters
        (_nested(4), "nested deeper than 3 levels"),
        (_nested(5000), "nested deeper than 3 levels"),  # no recursion, however deep
        ({"a": 1, "b": 2, "c": {"d": 1, "e": 2}}, "5 keys; at most 4"),
        ({"": 1}, "non-empty strings"),
        ({"a\u0000b": 1}, "control or format characters"),
        ({"tab\tkey": 1}, "control or format characters"),
        ({"zero\u200bwidth": 1}, "control or format characters"),
        ({"k" * 129: 1}, "at most 128 characters"),
        ({"\ud800": 1}, "lone surrogate"),
        ({"k": "\udfff"}, "lone surrogate"),
        ({"k": float("inf")}, "finite"),
        ({"k": float("nan")}, "finite"),
        ({"k": {1, 2}}, "not a JSON value"),
        (["not", "an", "object"], "must be a JSON object"),
        ("text", "must be a JSON object"),
    ],
)
def test_given_hostile_or_oversize_maps_then_invalid_input_names_the_problem(
    value: Any, problem: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        MetadataPolicy(limits=LIMITS).validated("metadata", value)

    assert any(problem in detail["problem"] for detail in raised.value.details)  # type: ignore[attr-defined]


def test_given_maps_within_the_limits_then_accepted_as_sent() -> None:
    value = {"plan": "pro", "tags": ["a", None, 1.5], "nested": {"ok": True}}

    assert MetadataPolicy(limits=LIMITS).validated("metadata", value) == value


def test_given_a_too_deep_patch_then_refused_before_merging(backend: InMemoryBackend) -> None:
    user = backend.register()
    policy = MetadataPolicy(limits=LIMITS)

    with pytest.raises(InvalidInput, match="metadata is invalid"):
        _service(backend, policy).update(
            backend.caller(user), "me", _patch(metadata=_nested(100_000))
        )


def test_given_a_deployers_schema_then_maps_must_satisfy_it() -> None:
    schema = '{"type": "object", "properties": {"plan": {"enum": ["free", "pro"]}}}'
    policy = MetadataPolicy(schemas={"app_metadata": json_schema_check(schema)})

    assert policy.validated("app_metadata", {"plan": "pro"}) == {"plan": "pro"}
    assert policy.validated("metadata", {"plan": "anything"}) == {"plan": "anything"}
    with pytest.raises(InvalidInput) as raised:
        policy.validated("app_metadata", {"plan": "gold"})
    assert "plan: 'gold' is not one of" in str(raised.value.details)


@pytest.mark.parametrize("schema", ["not json", '{"type": "no such type"}', "[1"])
def test_given_an_invalid_schema_then_it_is_refused_when_loaded(schema: str) -> None:
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        json_schema_check(schema)
