"""Operator commands for auth (`userflow keys`, `userflow admin grant`) and what auth logs."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from adapters import key_store
from adapters.key_store import jwks_parameter_name
from adapters.user_items import user_key
from handlers.observability import logger
from tests.support.api_clients import GatewayClient, reset_auth_caches
from userflow.cli import main
from userflow.stack import Stack


def record_as_local(stack: Stack, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records the stack as `userflow local` does, so commands need no flags."""
    state = {
        "pid": os.getpid(),  # a running stack: state left by a dead one is ignored
        "stack_name": stack.name,
        "region": stack.region,
        "endpoint_url": None,
        "resources": stack.resources,
        "api_url": None,
    }
    (directory / "local.json").write_text(json.dumps(state))
    monkeypatch.setenv("USERFLOW_STATE_DIR", str(directory))


@pytest.fixture
def local_state(
    gateway: GatewayClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> GatewayClient:
    record_as_local(gateway.stack, tmp_path, monkeypatch)
    # `keys rotate --retain-minutes 0` waits out the signers' key cache; keep that short here.
    monkeypatch.setattr(key_store, "SIGNER_CACHE_SECONDS", 1)
    return gateway


def test_given_a_new_stack_when_keys_ensure_runs_twice_then_one_key_is_created_once(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_as_local(stack, tmp_path, monkeypatch)
    assert main(["keys", "list"]) == 1  # a fresh deployment has no key yet

    assert main(["keys", "ensure"]) == 0
    assert main(["keys", "ensure"]) == 0

    capsys.readouterr()
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["keys"]
    # The first key signs; its successor is published ahead, for the first rotation.
    assert [k["state"] for k in listed] == ["signing", "staged"]


def _verify(gateway: GatewayClient, user_id: str) -> None:
    """As the user's click on the verification link leaves the item (no version of its own)."""
    gateway.db.update_item(
        TableName=gateway.table,
        Key=user_key(user_id),
        UpdateExpression="SET email_verified = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )


def test_given_a_user_when_an_operator_grants_admin_then_their_next_token_lists_users(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()
    _verify(local_state, user.id)
    before = local_state.login(user)["access_token"]

    exit_code = main(["admin", "grant", user.email.upper()])

    assert exit_code == 0
    assert user.email in capsys.readouterr().out
    assert local_state.request("GET", "/users", token=before).status == 403
    after = local_state.login(user)["access_token"]
    assert local_state.request("GET", "/users", token=after).status == 200
    assert local_state.user_item(user.id)["version"] == {"N": "2"}  # a normal user update


def test_given_an_unverified_address_when_granting_admin_then_exit_2_unless_forced_with_a_warning(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()

    refused = main(["admin", "grant", user.email])
    said = capsys.readouterr()
    forced = main(["admin", "grant", user.email, "--force"])
    warned = capsys.readouterr()

    assert refused == 2
    assert "not verified" in said.err
    assert forced == 0
    assert "warning" in warned.err
    assert "not verified" in warned.err
    roles = local_state.user_item(user.id)["roles"]["L"]
    assert {"S": "admin"} in roles


def test_given_two_admins_when_one_is_revoked_then_demoted_and_signed_out_and_the_last_stays(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    ann, bob = local_state.register(admin=True), local_state.register(admin=True)
    anns = local_state.login(ann)

    assert main(["admin", "revoke", ann.email, "admin"]) == 0
    assert "their sessions have ended" in capsys.readouterr().out
    assert local_state.request("GET", "/users/me", token=anns["access_token"]).status == 401
    refresh = {"refresh_token": anns["refresh_token"]}
    assert local_state.request("POST", "/auth/refresh", json=refresh).status == 401

    last = main(["admin", "revoke", bob.email, "admin"])
    assert last == 2
    assert "last enabled admin" in capsys.readouterr().err
    assert {"S": "admin"} in local_state.user_item(bob.id)["roles"]["L"]


def test_given_the_user_role_or_an_unknown_one_when_revoking_then_exit_2(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()

    assert main(["admin", "revoke", user.email, "user"]) == 2
    assert "user role" in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:
        main(["admin", "revoke", user.email, "root"])
    assert unknown.value.code == 2
    assert local_state.user_item(user.id)["version"] == {"N": "1"}


def test_given_a_throttled_account_when_an_operator_unlocks_it_then_the_password_logs_in(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(6):
        local_state.request("POST", "/auth/login", json=wrong)

    assert main(["admin", "unlock", user.email]) == 0
    assert "throttle cleared" in capsys.readouterr().out
    login = {"email": user.email, "password": user.password}
    assert local_state.request("POST", "/auth/login", json=login).status == 200


def test_given_an_unknown_email_when_granting_admin_then_exit_1(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "grant", "nobody@example.com"]) == 1
    assert "nobody@example.com" in capsys.readouterr().err


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["keys", "list", "--json"]) == 0
    keys: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["keys"]
    return keys


def test_given_keys_rotate_when_run_then_the_new_key_is_published_and_does_not_sign_yet(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()
    old = local_state.login(user)["access_token"]
    capsys.readouterr()

    assert main(["keys", "rotate", "--json"]) == 0
    staged = json.loads(capsys.readouterr().out)
    reset_auth_caches()
    still = local_state.login(user)["access_token"]
    refused = main(["keys", "activate"])
    said = capsys.readouterr().err

    assert _kid(still) == _kid(old)  # nothing signs with a key verifiers may not know yet
    jwks = local_state.request("GET", "/.well-known/jwks.json").json
    assert staged["staged"] in {key["kid"] for key in jwks["keys"]}
    assert refused == 1
    assert f"not yet: {staged['staged']} may sign from" in said
    assert {k["kid"]: k["state"] for k in _listed(capsys)}[staged["staged"]] == "staged"


def test_given_a_staged_key_published_long_enough_when_activated_then_it_signs_and_old_tokens_live(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stack whose verifiers cache nothing: a staged key may sign at once.
    monkeypatch.setattr(key_store, "publish_ahead", lambda cache_seconds: timedelta(0))
    user = local_state.register()
    old = local_state.login(user)["access_token"]

    assert main(["keys", "rotate"]) == 0
    capsys.readouterr()
    assert main(["keys", "activate", "--json"]) == 0
    activated = json.loads(capsys.readouterr().out)
    reset_auth_caches()
    new = local_state.login(user)["access_token"]
    listed = {k["kid"]: k for k in _listed(capsys)}

    assert _kid(new) == activated["signing"] != _kid(old)
    assert listed[_kid(new)]["state"] == "signing"
    assert listed[_kid(old)]["state"] == "retired"
    assert listed[_kid(old)]["expires_at"] == activated["retired_published_until"]
    assert listed[activated["staged"]]["state"] == "staged"  # the next one, ahead of time
    assert all("d" not in k and "private_jwk" not in k for k in listed.values())
    assert local_state.request("GET", "/users/me", token=old).status == 200
    assert local_state.request("GET", "/users/me", token=new).status == 200


def test_given_a_compromise_when_rotated_with_retain_0_then_every_old_token_is_refused(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()
    old = local_state.login(user)["access_token"]
    capsys.readouterr()

    assert main(["keys", "rotate", "--retain-minutes", "0", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    reset_auth_caches()
    new = local_state.login(user)["access_token"]

    assert said["emergency"] is True
    assert _kid(old) in said["dropped"]
    assert _kid(new) == said["signing"]
    assert local_state.request("GET", "/users/me", token=old).status == 403
    assert local_state.request("GET", "/users/me", token=new).status == 200


def test_given_retain_minutes_on_rotate_when_not_0_then_refused_with_where_it_belongs(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate", "--retain-minutes", "5"]) == 2
    assert "keys activate --retain-minutes N" in capsys.readouterr().err


def test_given_an_admin_when_granted_again_then_nothing_changes_and_no_event_is_announced(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = local_state.register()
    _verify(local_state, user.id)
    assert main(["admin", "grant", user.email, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    version = local_state.user_item(user.id)["version"]

    assert main(["admin", "grant", user.email, "--force", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert main(["admin", "grant", user.email, "--force"]) == 0
    said = capsys.readouterr().out

    assert first["changed"] is True
    assert first["request_id"].startswith("userflow-admin-")
    assert again == {**first, "changed": False, "request_id": None}
    assert local_state.user_item(user.id)["version"] == version
    assert "nothing changed" in said
    assert "request id" not in said


@pytest.fixture
def all_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[Callable[[], str]]:
    """Our functions' logs at DEBUG, everything else at INFO (botocore's DEBUG dumps wire bodies,
    which Lambda never enables)."""
    previous = logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=logger.name)

    def read() -> str:
        captured = capsys.readouterr()
        return captured.out + captured.err + caplog.text

    yield read
    logger.setLevel(previous)


def test_given_debug_logging_when_every_auth_route_runs_then_no_secret_is_logged(
    gateway: GatewayClient, all_logs: Callable[[], str]
) -> None:
    user, admin = gateway.register(), gateway.register(admin=True)
    admin_token = gateway.login(admin)["access_token"]
    wrong_password = "definitely not it"
    gateway.request("POST", "/auth/login", json={"email": user.email, "password": wrong_password})
    first = gateway.login(user)
    second = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    gateway.request("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})
    third = gateway.login(user)
    tampered = third["access_token"][:-4] + "AAAA"
    gateway.request("GET", "/users/me", token=tampered)
    gateway.request("POST", f"/users/{user.id}/disable", token=admin_token)
    gateway.request(
        "POST",
        "/auth/logout",
        json={"refresh_token": third["refresh_token"]},
        token=third["access_token"],
    )
    hash_ = gateway.user_item(user.id)["password_hash"]["S"]

    output = all_logs()

    assert "LoginFailed" in output  # the capture does see what the functions print
    secrets = [user.password, wrong_password, hash_, "$argon2id$", admin_token, tampered]
    secrets += [first["refresh_token"], first["access_token"], third["refresh_token"]]
    secrets += [second.json["refresh_token"], second.json["access_token"]]
    secrets += [token.split(".")[2] for token in (admin_token, third["access_token"])]
    leaked = [secret[:12] for secret in secrets if secret in output]
    assert leaked == []


@pytest.mark.parametrize("published", ["placeholder", '{"keys": []}', None])
def test_given_a_broken_jwks_when_keys_are_listed_then_exit_1_until_ensure_republishes_it(
    local_state: GatewayClient, capsys: pytest.CaptureFixture[str], published: str | None
) -> None:
    assert main(["keys", "ensure"]) == 0
    ssm = local_state.stack.client("ssm")
    parameter = jwks_parameter_name(local_state.stack.name)
    if published is None:
        ssm.delete_parameter(Name=parameter)
    else:
        ssm.put_parameter(Name=parameter, Value=published, Type="String", Overwrite=True)
    capsys.readouterr()

    broken = main(["keys", "list"])
    said = capsys.readouterr().err
    assert main(["keys", "ensure"]) == 0
    mended = main(["keys", "list"])

    assert (broken, mended) == (1, 0)
    assert f"the JWKS parameter {parameter}" in said
    assert "run `userflow keys ensure`" in said
