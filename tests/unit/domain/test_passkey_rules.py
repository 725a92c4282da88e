"""Passkeys' pure rules: what the API accepts, the cloned-key signal, limiter keys, the relying
party's settings, and the notices users get."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from domain.mail import MailKind, MailRequest, render
from domain.passkey_assertions import counter_regressed
from domain.passkey_service import ways_to_sign_in
from domain.passkeys import (
    HARDWARE_KEY,
    SOFTWARE_KEY,
    USER_VERIFIED,
    PasskeyAuthenticationRequest,
    RegisterPasskeyRequest,
    RenamePasskeyRequest,
    StoredPasskey,
    is_passkey_id,
)
from domain.passwords import PasswordHasher
from domain.users import User, UserAccount
from domain.webauthn_json import passkey_id
from handlers.settings import RelyingPartySettings, SettingsError, load
from userflow.local_stack import PARAMETERS as LOCAL_PARAMETERS

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CREDENTIAL_ID = "AAECAwQFBgcICQoLDA0ODw"


def _assertion(**changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "id": CREDENTIAL_ID,
        "rawId": CREDENTIAL_ID,
        "type": "public-key",
        "response": {
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
            "signature": "MEUCIQ",
            "userHandle": "dXNlcg",
        },
    }
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = credential
        for parent in parents:
            target = target[parent]
        target[last] = value
    return {"challenge_id": "c" * 43, "credential": credential}


def _refused(model: type[Any], body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return [".".join(str(p) for p in error["loc"]) for error in caught.value.errors()]


def test_given_a_browser_assertion_when_parsed_then_unknown_members_are_ignored() -> None:
    body = _assertion(**{"clientExtensionResults": {"credProps": {"rk": True}}, "future": 1})

    request = PasskeyAuthenticationRequest.model_validate(body)

    assert request.credential.as_json()["response"]["userHandle"] == "dXNlcg"
    assert "future" not in request.credential.as_json()
    assert request.credential.user_handle == b"user"
    assert request.credential.passkey_id == passkey_id(bytes(range(16)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rawId", "not base64url!"),
        ("rawId", "A"),  # one character too many for any byte string
        ("rawId", "A" * 5000),
        ("id", "é"),
        ("response.signature", "%%%"),
        ("response.signature", "A" * 100_000),
        ("response.clientDataJSON", 12),
        ("response.authenticatorData", None),
        ("response.userHandle", "A" * 200),
        ("response.userHandle", ["dXNlcg"]),
        ("type", "password"),
        ("response", "a string"),
        ("authenticatorAttachment", "carrier pigeon"),
    ],
)
def test_given_a_hostile_credential_field_when_parsed_then_refused_by_name(
    field: str, value: Any
) -> None:
    located = _refused(PasskeyAuthenticationRequest, _assertion(**{field: value}))
    member = field.split(".", maxsplit=1)[0]

    assert any(location.startswith(f"credential.{member}") for location in located)


@pytest.mark.parametrize(
    "challenge_id", ["", "short", "c" * 65, "c" * 42 + "/", "\ud800" * 43, 43, None]
)
def test_given_a_hostile_challenge_id_when_parsed_then_refused(challenge_id: Any) -> None:
    body = _assertion()
    body["challenge_id"] = challenge_id

    assert "challenge_id" in _refused(PasskeyAuthenticationRequest, body)


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 65, "bell\u0007", "rtl\u202eoverride", "lone \ud800", 7]
)
def test_given_a_hostile_passkey_name_when_parsed_then_refused(name: Any) -> None:
    assert _refused(RenamePasskeyRequest, {"name": name}) == ["name"]


def test_given_a_registration_with_an_extra_member_when_parsed_then_refused() -> None:
    body = {
        "challenge_id": "c" * 43,
        "credential": {
            "id": CREDENTIAL_ID,
            "rawId": CREDENTIAL_ID,
            "type": "public-key",
            "response": {"clientDataJSON": "e30", "attestationObject": "oA", "transports": []},
        },
        "is_admin": True,
    }

    assert _refused(RegisterPasskeyRequest, body) == ["is_admin"]


@pytest.mark.parametrize(
    ("stored", "presented", "regressed"),
    [
        (0, 0, False),  # an authenticator without a counter (synced passkeys)
        (0, 1, False),
        (5, 6, False),
        (5, 5, True),  # the same counter twice: a copy, or a replayed assertion
        (5, 3, True),
        (5, 0, True),
    ],
)
def test_given_stored_and_presented_counters_when_compared_then_regression_is_a_clone(
    stored: int, presented: int, regressed: bool
) -> None:
    assert counter_regressed(stored, presented) is regressed


def _passkey(*, synced: bool = False, blocked: bool = False) -> StoredPasskey:
    return StoredPasskey(
        id=passkey_id(b"credential"),
        user_id="u",
        credential_id=b"credential",
        public_key=b"cose",
        aaguid="00000000-0000-0000-0000-000000000000",
        backup_eligible=synced,
        created_at=NOW,
        blocked_at=NOW if blocked else None,
    )


def test_given_synced_and_device_bound_passkeys_when_amr_read_then_swk_and_hwk() -> None:
    assert _passkey(synced=True).amr == (SOFTWARE_KEY, USER_VERIFIED)
    assert _passkey(synced=False).amr == (HARDWARE_KEY, USER_VERIFIED)


def test_given_a_passkey_when_shown_then_no_key_credential_id_or_counter() -> None:
    shown = _passkey().view().model_dump()

    assert set(shown) == {
        "id",
        "name",
        "created_at",
        "last_used_at",
        "backed_up",
        "transports",
        "blocked_at",
    }
    assert is_passkey_id(shown["id"])
    assert not is_passkey_id("x" * 2000)


def _account(*, has_password: bool) -> UserAccount:
    hasher = PasswordHasher()
    user = User(id="u", email="a@example.com", name="A", created_at=NOW, updated_at=NOW)
    return UserAccount(
        user=user, password_hash=hasher.hash("pw") if has_password else hasher.unusable_hash()
    )


def test_given_password_and_passkeys_when_ways_counted_then_blocked_ones_do_not_count() -> None:
    assert ways_to_sign_in(_account(has_password=True), []) == 1
    assert ways_to_sign_in(_account(has_password=False), [_passkey()]) == 1
    assert ways_to_sign_in(_account(has_password=False), [_passkey(blocked=True)]) == 0


def test_given_a_passwordless_account_when_any_password_checked_then_refused() -> None:
    account = _account(has_password=False)

    assert not account.has_password
    assert not PasswordHasher().verify("pw", account.password_hash)
    assert not PasswordHasher().verify("", account.password_hash)


PASSKEY_NOTICES = [
    MailKind.PASSKEY_ADDED,
    MailKind.PASSKEY_REMOVED,
    MailKind.PASSKEY_BLOCKED,
    MailKind.PASSWORD_REMOVED,
]


@pytest.mark.parametrize("kind", PASSKEY_NOTICES)
def test_given_a_sign_in_notice_when_rendered_then_it_names_nothing_but_the_user(
    kind: MailKind,
) -> None:
    request = MailRequest(message_id="m", kind=kind, to="a@example.com", user_id="u", name="Ann")

    mail = render(request, "https://app.example.com", None)

    assert mail.to == "a@example.com"
    assert mail.text.startswith("Hello Ann,")
    assert "http" not in mail.text


RP = {"PASSKEY_RP_ID": "example.com", "PASSKEY_RP_NAME": "Example"}


@pytest.mark.parametrize(
    "origins", ["https://example.com", "https://app.example.com,https://www.example.com"]
)
def test_given_origins_on_the_rp_id_when_loaded_then_accepted(origins: str) -> None:
    settings = load(RelyingPartySettings, {**RP, "PASSKEY_ORIGINS": origins})

    assert ",".join(settings.passkey_origins) == origins


@pytest.mark.parametrize(
    "origins",
    [
        "http://app.example.com",  # not a secure context
        "https://example.com.evil.test",
        "https://notexample.com",
        "https://app.example.com/login",  # an origin has no path
        "",
    ],
)
def test_given_an_origin_off_the_rp_id_when_loaded_then_the_function_refuses_to_start(
    origins: str,
) -> None:
    with pytest.raises(SettingsError):
        load(RelyingPartySettings, {**RP, "PASSKEY_ORIGINS": origins})


def _parameter_defaults() -> dict[str, str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = Path(__file__).resolve().parents[3] / "template.yaml"
    parameters = yaml.load(template.read_text(), Loader=Loader)["Parameters"]  # noqa: S506
    return {name: str(spec.get("Default", "")) for name, spec in parameters.items()}


@pytest.mark.parametrize("overrides", [{}, LOCAL_PARAMETERS], ids=["template", "userflow-local"])
def test_given_the_default_relying_party_when_loaded_then_valid(overrides: dict[str, str]) -> None:
    parameters = {**_parameter_defaults(), **overrides}

    settings = load(
        RelyingPartySettings,
        {
            "PASSKEY_RP_ID": parameters["PasskeyRpId"],
            "PASSKEY_RP_NAME": parameters["PasskeyRpName"],
            "PASSKEY_ORIGINS": parameters["PasskeyOrigins"],
        },
    )

    if overrides:
        assert settings.passkey_rp_id == "localhost"
        assert settings.passkey_origins == ("http://localhost:3000",)
