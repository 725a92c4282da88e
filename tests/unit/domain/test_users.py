from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.access import Caller
from domain.email_address import normalize_email
from domain.errors import AccessDenied
from domain.users import Registration, UserPatch

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [(" Ann@Example.COM ", "ann@example.com"), ("bob.o+tag@mail.co.uk", "bob.o+tag@mail.co.uk")],
)
def test_given_an_email_when_normalized_then_it_is_trimmed_and_lower_case(
    raw: str, normalized: str
) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize("bad", ["", "ann", "ann@", "@example.com", "a b@example.com", "a@b"])
def test_given_a_malformed_email_when_registering_then_it_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        Registration(email=bad, password="correct horse battery", name="Ann")


def test_given_roles_in_a_registration_when_parsed_then_it_is_rejected() -> None:
    with pytest.raises(ValidationError, match="roles"):
        Registration.model_validate(
            {"email": "a@example.com", "password": "p" * 12, "name": "A", "roles": ["admin"]}
        )


@pytest.mark.parametrize("field", ["roles", "status", "version", "id", "password_hash"])
def test_given_a_protected_field_in_a_patch_when_parsed_then_it_is_rejected(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        UserPatch.model_validate({field: "x"})


def test_given_a_patch_when_only_some_fields_are_sent_then_only_those_are_set() -> None:
    patch = UserPatch.model_validate({"name": " Ann B ", "phone": None})

    assert patch.model_dump(exclude_unset=True) == {"name": "Ann B", "phone": None}


def test_given_a_user_when_accessing_another_record_then_access_is_denied() -> None:
    caller = Caller(user_id="u1", roles=frozenset({"user"}), session_generation=0)

    caller.ensure_can_access("u1")
    assert caller.resolve("me") == "u1"
    with pytest.raises(AccessDenied):
        caller.ensure_can_access("u2")
    with pytest.raises(AccessDenied):
        caller.ensure_admin()


def test_given_an_admin_when_accessing_any_record_then_access_is_allowed() -> None:
    caller = Caller(user_id="a1", roles=frozenset({"user", "admin"}), session_generation=0)

    caller.ensure_can_access("u2")
    caller.ensure_admin()
