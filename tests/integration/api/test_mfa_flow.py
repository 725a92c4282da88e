"""TOTP MFA through the template's routes and Lambda authorizer, against moto: enrolment, login
with a second factor, replays, recovery codes, step-up, turning it off and the admin reset."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest

from adapters.mail_outbox import MAIL_KEY_PREFIX
from tests.support.api_clients import GatewayClient
from tests.support.mfa_steps import (
    Enrolled,
    claims,
    enrol,
    fresh_step,
    password_step,
    second_step,
)
from tests.support.moto_patches import serialise_moto_transactions

INVALID = {"message": "Invalid credentials"}
REAUTH = {"message": "Reauthentication required"}


def outbox_kinds(gateway: GatewayClient, user_id: str) -> list[str]:
    items = gateway.db.scan(TableName=gateway.table)["Items"]
    return [
        item["kind"]["S"]
        for item in items
        if item["PK"]["S"].startswith(MAIL_KEY_PREFIX) and item["user_id"]["S"] == user_id
    ]


# ---------------------------------------------------------------- enrolment
def test_given_a_user_when_enrolling_and_confirming_then_totp_is_on_with_ten_codes(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]
    assert gateway.request("GET", "/users/me/mfa", token=token).json == {
        "totp": False,
        "recovery_codes_left": 0,
    }

    started = gateway.request("POST", "/users/me/mfa/totp", token=token)
    secret = started.json["secret"]
    wrong = gateway.request(
        "POST", "/users/me/mfa/totp/confirm", json={"code": "000000"}, token=token
    )
    not_yet = gateway.request("GET", "/users/me", token=token).json
    fresh_step()
    confirmed = gateway.request(
        "POST", "/users/me/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, token=token
    )

    assert started.status == 200
    assert started.headers["cache-control"] == "no-store"
    assert started.json["otpauth_uri"].startswith("otpauth://totp/Userflow:")
    assert len(secret) == 32
    assert (wrong.status, not_yet["mfa_enabled"]) == (400, False)
    assert confirmed.status == 200
    codes = confirmed.json["recovery_codes"]
    assert len(set(codes)) == 10
    assert gateway.request("GET", "/users/me/mfa", token=token).json == {
        "totp": True,
        "recovery_codes_left": 10,
    }
    me = gateway.request("GET", "/users/me", token=token).json
    assert me["mfa_enabled"] is True
    again = gateway.request("POST", "/users/me/mfa/totp", token=token)
    assert again.status == 409
    confirm_again = gateway.request(
        "POST", "/users/me/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, token=token
    )
    assert confirm_again.status == 409


def test_given_an_enrolment_when_stored_then_neither_the_secret_nor_a_code_is_in_the_item(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)

    item = str(gateway.user_item(enrolled.user.id))

    assert enrolled.totp.secret not in item
    assert all(
        code not in item and code.replace("-", "") not in item for code in enrolled.recovery_codes
    )
    assert "totp_secret" in item


def test_given_no_pending_enrolment_when_confirming_then_409(gateway: GatewayClient) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]

    response = gateway.request(
        "POST", "/users/me/mfa/totp/confirm", json={"code": "123456"}, token=token
    )

    assert response.status == 409


# ---------------------------------------------------------------- login
def test_given_mfa_on_when_logging_in_then_no_tokens_until_the_code_and_amr_names_it(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)

    first = password_step(gateway, enrolled.user)
    tokens = second_step(gateway, first["mfa_token"], code=enrolled.totp.now())

    assert first["mfa_required"] is True
    assert first["methods"] == ["totp"]
    assert 0 < first["expires_in"] <= 300
    assert "access_token" not in first
    assert "refresh_token" not in first
    assert tokens.status == 200, tokens.text
    access = claims(tokens.json["access_token"])
    assert access["amr"] == ["pwd", "otp"]
    assert abs(access["auth_time"] - time.time()) < 60
    assert gateway.request("GET", "/users/me", token=tokens.json["access_token"]).status == 200
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": tokens.json["refresh_token"]}
    )
    refreshed_claims = claims(refreshed.json["access_token"])
    assert refreshed_claims["amr"] == ["pwd", "otp"]
    assert refreshed_claims["auth_time"] == access["auth_time"]


def test_given_a_used_code_when_replayed_then_401_sequentially_and_in_parallel(
    gateway: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialise_moto_transactions(monkeypatch)
    enrolled = enrol(gateway)
    code = enrolled.totp.now()
    assert (
        second_step(gateway, password_step(gateway, enrolled.user)["mfa_token"], code=code).status
        == 200
    )

    again = second_step(gateway, password_step(gateway, enrolled.user)["mfa_token"], code=code)
    assert (again.status, again.json) == (401, INVALID)

    # A fresh step, and ten logins racing with its code: one wins.
    gateway.db.update_item(
        TableName=gateway.table,
        Key={"PK": {"S": f"USER#{enrolled.user.id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET totp_last_step = :older",
        ExpressionAttributeValues={":older": {"N": str(enrolled.totp.timecode(time.time()) - 1)}},
    )
    tokens = [password_step(gateway, enrolled.user)["mfa_token"] for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda t: second_step(gateway, t, code=code).status, tokens))
    # Accepted once at most. The others are failures of the account's throttle (429 once it
    # delays), which may also void the winner's login as for racing passwords: only a login
    # that finishes before another failure is counted succeeds (docs/api/auth.md, "Login
    # throttling").
    assert statuses.count(200) <= 1
    assert set(statuses) <= {200, 401, 429}
    assert int(gateway.user_item(enrolled.user.id)["failed_logins"]["N"]) >= 2


def test_given_five_wrong_codes_when_the_right_one_follows_then_the_mfa_token_is_dead(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    mfa_token = password_step(gateway, enrolled.user)["mfa_token"]
    before = gateway.user_item(enrolled.user.id)

    wrong = [second_step(gateway, mfa_token, code="000000").status for _ in range(5)]
    right = second_step(gateway, mfa_token, code=enrolled.totp.now())

    # The 5th failure in a row starts the login throttle's delays: 429 with Retry-After.
    assert wrong == [401] * 4 + [429]
    assert (right.status, right.json) == (401, INVALID)
    # Counted toward the login throttle: nothing but login bookkeeping writes the user item.
    assert gateway.user_item(enrolled.user.id) != before


def test_given_wrong_codes_when_logging_in_again_with_the_password_then_they_still_count(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    first = password_step(gateway, enrolled.user)["mfa_token"]
    early = [second_step(gateway, first, code="000000").status for _ in range(4)]

    again = password_step(gateway, enrolled.user)["mfa_token"]
    fifth = second_step(gateway, again, code="000000")

    assert early == [401] * 4
    assert fifth.status == 429
    assert int(fifth.headers["retry-after"]) > 0


def test_given_an_attackers_wrong_codes_then_the_owners_trusted_device_still_logs_in(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    stolen = password_step(gateway, enrolled.user)["mfa_token"]
    attack = [second_step(gateway, stolen, code="000000").status for _ in range(5)]
    owner = {"email": enrolled.user.email, "password": enrolled.user.password}
    device = {"device_token": enrolled.device_token}

    mfa_token = gateway.request("POST", "/auth/login", json={**owner, **device}).json["mfa_token"]
    response = second_step(gateway, mfa_token, code=enrolled.totp.now(), **device)
    without_device = gateway.request("POST", "/auth/login", json=owner)

    assert attack[-1] == 429
    assert response.status == 200, response.text
    assert response.json["device_token"] == enrolled.device_token
    assert without_device.status == 429


def test_given_a_used_mfa_token_when_used_again_with_a_recovery_code_then_401(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    mfa_token = password_step(gateway, enrolled.user)["mfa_token"]
    assert second_step(gateway, mfa_token, code=enrolled.totp.now()).status == 200

    again = second_step(gateway, mfa_token, recovery_code=enrolled.recovery_codes[0])

    assert (again.status, again.json) == (401, INVALID)


def test_given_a_recovery_code_when_used_then_it_works_once_and_the_user_is_mailed(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    code = enrolled.recovery_codes[3]

    first = second_step(
        gateway, password_step(gateway, enrolled.user)["mfa_token"], recovery_code=code.upper()
    )
    second = second_step(
        gateway, password_step(gateway, enrolled.user)["mfa_token"], recovery_code=code
    )

    assert first.status == 200
    assert claims(first.json["access_token"])["amr"] == ["pwd", "otp"]
    assert (second.status, second.json) == (401, INVALID)
    status = gateway.request("GET", "/users/me/mfa", token=first.json["access_token"]).json
    assert status["recovery_codes_left"] == 9
    assert "recovery_code_used" in outbox_kinds(gateway, enrolled.user.id)


def test_given_sessions_revoked_since_the_password_step_when_completing_then_401(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    mfa_token = password_step(gateway, enrolled.user)["mfa_token"]
    gateway.request("POST", "/auth/logout", json={"all": True}, token=enrolled.enrolment_token)

    response = second_step(gateway, mfa_token, code=enrolled.totp.now())

    assert (response.status, response.json) == (401, INVALID)


# ---------------------------------------------------------------- step-up, off, new codes
def _mfa_login(gateway: GatewayClient, enrolled: Enrolled, index: int = 0) -> dict[str, Any]:
    mfa_token = password_step(gateway, enrolled.user)["mfa_token"]
    response = second_step(gateway, mfa_token, recovery_code=enrolled.recovery_codes[index])
    assert response.status == 200, response.text
    tokens: dict[str, Any] = response.json
    return tokens


def test_given_a_password_only_session_when_turning_mfa_off_or_renewing_codes_then_403(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    password = {"current_password": enrolled.user.password}

    off = gateway.request("DELETE", "/users/me/mfa/totp", token=enrolled.enrolment_token)
    off_with_password = gateway.request(
        "DELETE", "/users/me/mfa/totp", json=password, token=enrolled.enrolment_token
    )
    codes = gateway.request("POST", "/users/me/mfa/recovery-codes", token=enrolled.enrolment_token)

    assert (off.status, off.json) == (403, REAUTH)
    assert (off_with_password.status, off_with_password.json) == (403, REAUTH)
    assert (codes.status, codes.json) == (403, REAUTH)
    me = gateway.request("GET", "/users/me/mfa", token=enrolled.enrolment_token).json
    assert me["totp"] is True


def test_given_a_step_up_session_when_renewing_codes_then_the_old_set_is_dead(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    token = _mfa_login(gateway, enrolled)["access_token"]

    renewed = gateway.request("POST", "/users/me/mfa/recovery-codes", token=token)
    old = second_step(
        gateway,
        password_step(gateway, enrolled.user)["mfa_token"],
        recovery_code=enrolled.recovery_codes[1],
    )
    new = second_step(
        gateway,
        password_step(gateway, enrolled.user)["mfa_token"],
        recovery_code=renewed.json["recovery_codes"][0],
    )

    assert renewed.status == 200
    assert len(set(renewed.json["recovery_codes"]) - set(enrolled.recovery_codes)) == 10
    assert old.status == 401
    assert new.status == 200


def test_given_a_step_up_session_when_turning_mfa_off_then_login_needs_only_the_password(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    token = _mfa_login(gateway, enrolled)["access_token"]

    off = gateway.request("DELETE", "/users/me/mfa/totp", token=token)

    assert off.status == 204
    assert gateway.request("GET", "/users/me/mfa", token=token).json == {
        "totp": False,
        "recovery_codes_left": 0,
    }
    assert "access_token" in password_step(gateway, enrolled.user)
    assert "mfa_disabled" in outbox_kinds(gateway, enrolled.user.id)
    assert gateway.request("POST", "/users/me/mfa/recovery-codes", token=token).status == 409


# ---------------------------------------------------------------- admin reset
def test_given_an_admin_when_resetting_a_users_mfa_then_it_is_off_and_sessions_end(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    session = _mfa_login(gateway, enrolled)
    admin = gateway.register(admin=True)
    admin_token = gateway.login(admin)["access_token"]

    by_user = gateway.request("DELETE", f"/users/{admin.id}/mfa", token=session["access_token"])
    reset = gateway.request("DELETE", f"/users/{enrolled.user.id}/mfa", token=admin_token)
    missing = gateway.request("DELETE", "/users/no-such-user/mfa", token=admin_token)

    assert by_user.status == 403
    assert reset.status == 204
    assert missing.status == 404
    assert gateway.request("GET", "/users/me", token=session["access_token"]).status == 401
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status == 401
    assert "access_token" in password_step(gateway, enrolled.user)
    assert "mfa_reset" in outbox_kinds(gateway, enrolled.user.id)


def test_given_mfa_on_when_a_password_only_session_changes_the_account_then_403_until_step_up(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    recent_password_only = enrolled.enrolment_token
    new_password = {
        "password": "another long passphrase",
        "current_password": enrolled.user.password,
    }

    delete = gateway.request("DELETE", "/users/me", token=recent_password_only)
    change = gateway.request("PATCH", "/users/me", json=new_password, token=recent_password_only)
    stepped_up = _mfa_login(gateway, enrolled)["access_token"]
    deleted = gateway.request("DELETE", "/users/me", token=stepped_up)

    assert (delete.status, delete.json) == (403, REAUTH)
    assert (change.status, change.json) == (403, REAUTH)
    assert deleted.status == 204


def test_given_mfa_on_when_an_admin_lists_users_then_mfa_enabled_is_shown(
    gateway: GatewayClient,
) -> None:
    enrolled = enrol(gateway)
    plain = gateway.register()
    admin_token = gateway.login(gateway.register(admin=True))["access_token"]

    listed = gateway.request("GET", "/users?limit=100", token=admin_token).json["items"]

    shown = {item["id"]: item["mfa_enabled"] for item in listed}
    assert (shown[enrolled.user.id], shown[plain.id]) == (True, False)
