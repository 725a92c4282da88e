"""Login, refresh rotation with reuse detection, logout and revocation: through the template's
routes and Lambda authorizer, against moto."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from adapters.key_store import DEFAULT_RETAIN_RETIRED
from adapters.user_items import user_key
from domain.access import SESSION_ENDED
from domain.passwords import Argon2Cost, PasswordHasher
from domain.sessions import hash_refresh_token
from domain.signing_keys import SigningKeySet
from tests.support.api_clients import GatewayClient, reset_auth_caches
from tests.support.legacy_hashes import LegacyScryptHasher
from userflow.signing_keys import KeyLocations
from userflow.stack import Stack

INVALID = {"message": "Invalid credentials"}
THROTTLED = {"message": "Too many failed logins; try again later"}


def _refresh(gateway: GatewayClient, token: str) -> Any:
    return gateway.request("POST", "/auth/refresh", json={"refresh_token": token})


# ---------------------------------------------------------------- login
def test_given_a_user_when_logging_in_then_a_bearer_pair_that_reads_users_me(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()

    response = gateway.request(
        "POST", "/auth/login", json={"email": f" {user.email.upper()} ", "password": user.password}
    )

    assert response.status == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    assert len(body["refresh_token"]) >= 43  # 256 random bits, base64url
    assert response.headers["cache-control"] == "no-store"
    me = gateway.request("GET", "/users/me", token=body["access_token"])
    assert me.status == 200
    assert me.json["id"] == user.id


def test_given_an_unknown_email_or_a_wrong_password_when_logging_in_then_the_same_401(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()

    unknown = gateway.request(
        "POST", "/auth/login", json={"email": "nobody@example.com", "password": user.password}
    )
    wrong = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": "not the password"}
    )

    assert (unknown.status, unknown.json) == (401, INVALID)
    assert (wrong.status, wrong.json) == (401, INVALID)
    # Only the request's own id (apigw-requestid) differs.
    assert unknown.headers.keys() == wrong.headers.keys()
    assert {k: v for k, v in unknown.headers.items() if k != "apigw-requestid"} == {
        k: v for k, v in wrong.headers.items() if k != "apigw-requestid"
    }


@pytest.mark.parametrize(
    "body", [{}, {"email": "a@example.com"}, {"email": 1, "password": 2}, [1], {"x": 1}]
)
def test_given_a_malformed_login_when_posted_then_422_not_500(
    gateway: GatewayClient, body: object
) -> None:
    assert gateway.request("POST", "/auth/login", json=body).status == 422


def test_given_repeated_failures_when_logging_in_then_the_account_waits_and_metrics_show_it(
    gateway: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = gateway.register()
    wrong = {"email": user.email, "password": "not the password"}

    statuses = [gateway.request("POST", "/auth/login", json=wrong).status for _ in range(5)]
    capsys.readouterr()
    locked = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": user.password}
    )

    assert statuses == [401] * 4 + [429]
    assert (locked.status, locked.json) == (429, THROTTLED)
    assert 0 < int(locked.headers["retry-after"]) <= 30
    assert '"LoginThrottled"' in capsys.readouterr().out
    item = gateway.user_item(user.id)
    # Counting failures is bookkeeping; the lock itself is a security change (AccountLocked).
    assert item["version"] == {"N": "2"}
    assert datetime.fromisoformat(item["locked_until"]["S"]) > datetime.now(UTC)


def test_given_an_expired_lock_when_logging_in_with_the_password_then_200_and_counter_cleared(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    gateway.db.update_item(
        TableName=gateway.table,
        Key=user_key(user.id),
        UpdateExpression="SET locked_until = :past, failed_logins = :three",
        ExpressionAttributeValues={":past": {"S": past}, ":three": {"N": "3"}},
    )

    gateway.login(user)

    item = gateway.user_item(user.id)
    assert "locked_until" not in item
    assert item["failed_logins"] == {"N": "0"}


@pytest.mark.parametrize(
    "old_hasher",
    [PasswordHasher(Argon2Cost(memory_kib=256, time_cost=1)), LegacyScryptHasher()],
    ids=["argon2id-at-a-lower-cost", "scrypt"],
)
def test_given_a_hash_of_an_older_cost_or_algorithm_when_logging_in_then_it_is_upgraded(
    gateway: GatewayClient, old_hasher: PasswordHasher
) -> None:
    old = gateway.register(hasher=old_hasher)
    assert PasswordHasher().needs_rehash(gateway.user_item(old.id)["password_hash"]["S"])

    gateway.login(old)

    stored = gateway.user_item(old.id)["password_hash"]["S"]
    assert stored.startswith("$argon2id$")
    assert not PasswordHasher().needs_rehash(stored)
    assert PasswordHasher().verify(old.password, stored)


# ---------------------------------------------------------------- refresh
def test_given_a_refresh_token_when_refreshed_then_a_new_pair_and_the_old_token_is_dead(
    gateway: GatewayClient,
) -> None:
    first = gateway.login(gateway.register())

    second = _refresh(gateway, first["refresh_token"])

    assert second.status == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert gateway.request("GET", "/users/me", token=second.json["access_token"]).status == 200
    assert _refresh(gateway, second.json["refresh_token"]).status == 200


def test_given_a_rotated_token_when_reused_then_401_and_the_whole_family_is_revoked(
    gateway: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    user = gateway.register()
    stolen = gateway.login(user)["refresh_token"]
    legitimate = _refresh(gateway, stolen).json["refresh_token"]
    other_session = gateway.login(user)["refresh_token"]
    capsys.readouterr()

    reuse = _refresh(gateway, stolen)

    assert (reuse.status, reuse.json) == (401, INVALID)
    assert '"RefreshReuseDetected"' in capsys.readouterr().out
    assert _refresh(gateway, legitimate).status == 401
    assert _refresh(gateway, other_session).status == 200  # another login is another family


def test_given_two_concurrent_refreshes_of_one_token_then_at_most_one_wins(
    gateway: GatewayClient,
) -> None:
    token = gateway.login(gateway.register())["refresh_token"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _refresh(gateway, token), range(4)))

    winners = [r for r in results if r.status == 200]
    assert len(winners) <= 1
    assert all(r.status in (200, 401) for r in results)
    for winner in winners:
        # The race is treated as theft: the family died, the winner's token with it.
        assert _refresh(gateway, winner.json["refresh_token"]).status == 401


@pytest.mark.parametrize("token", ["", "x", "a" * 300, "not-a-token-we-issued"])
def test_given_an_unknown_refresh_token_when_refreshed_then_401_or_422(
    gateway: GatewayClient, token: str
) -> None:
    assert _refresh(gateway, token).status in (401, 422)


def test_given_an_expired_refresh_token_when_refreshed_then_401(gateway: GatewayClient) -> None:
    token = gateway.login(gateway.register())["refresh_token"]
    gateway.db.update_item(
        TableName=gateway.table,
        Key={"PK": {"S": f"REFRESH#{hash_refresh_token(token)}"}, "SK": {"S": "REFRESH"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(datetime.now(UTC).timestamp()) - 1)}},
    )

    assert _refresh(gateway, token).status == 401


def test_given_a_login_when_stored_then_only_the_hash_of_the_refresh_token_is_kept(
    gateway: GatewayClient,
) -> None:
    tokens = gateway.login(gateway.register())

    items = gateway.db.scan(TableName=gateway.table)
    stored = str(items["Items"])

    assert tokens["refresh_token"] not in stored
    assert tokens["access_token"] not in stored
    assert "refresh_token" in {i["entity"]["S"] for i in items["Items"] if "entity" in i}


# ---------------------------------------------------------------- revocation
def test_given_a_password_change_when_refreshing_any_earlier_session_then_401(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    one, two = gateway.login(user), gateway.login(user)

    changed = gateway.request(
        "PATCH",
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": user.password},
        token=one["access_token"],
    )

    assert changed.status == 200
    assert _refresh(gateway, one["refresh_token"]).status == 401
    assert _refresh(gateway, two["refresh_token"]).status == 401
    fresh = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": "a brand new passphrase"}
    )
    assert _refresh(gateway, fresh.json["refresh_token"]).status == 200


def test_given_a_deleted_user_when_refreshing_then_401(gateway: GatewayClient) -> None:
    tokens = gateway.login(gateway.register())

    assert gateway.request("DELETE", "/users/me", token=tokens["access_token"]).status == 204
    assert _refresh(gateway, tokens["refresh_token"]).status == 401


def test_given_a_disabled_user_when_logging_in_or_refreshing_then_401_until_enabled(
    gateway: GatewayClient,
) -> None:
    admin = gateway.login(gateway.register(admin=True))["access_token"]
    user = gateway.register()
    tokens = gateway.login(user)

    disabled = gateway.request("POST", f"/users/{user.id}/disable", token=admin)
    refresh = _refresh(gateway, tokens["refresh_token"])
    login = gateway.request(
        "POST", "/auth/login", json={"email": user.email, "password": user.password}
    )
    enabled = gateway.request("POST", f"/users/{user.id}/enable", token=admin)

    assert disabled.status == 204
    assert (refresh.status, login.status) == (401, 401)
    assert login.json == INVALID
    assert enabled.status == 204
    assert gateway.request("GET", f"/users/{user.id}", token=admin).json["status"] == "active"
    assert _refresh(gateway, tokens["refresh_token"]).status == 401  # disabling revoked it
    gateway.login(user)


def test_given_revocations_in_the_same_second_when_earlier_access_tokens_are_used_then_401(
    gateway: GatewayClient,
) -> None:
    """Exact to the request: no clock comparison, so a token issued the same second dies too."""
    admin = gateway.login(gateway.register(admin=True))["access_token"]
    users = [gateway.register() for _ in range(4)]
    signed_out, disabled, changed, deleted = users
    tokens = {user.id: gateway.login(user)["access_token"] for user in users[:3]}
    deleted_token = gateway.login(deleted)["access_token"]

    gateway.request("POST", "/auth/logout", json={"all": True}, token=tokens[signed_out.id])
    gateway.request("POST", f"/users/{disabled.id}/disable", token=admin)
    new_password = {"password": "a brand new passphrase", "current_password": changed.password}
    gateway.request("PATCH", "/users/me", json=new_password, token=tokens[changed.id])
    gateway.request("DELETE", "/users/me", token=deleted_token)

    for user_id, token in tokens.items():
        response = gateway.request("GET", f"/users/{user_id}", token=token)
        assert (response.status, response.json) == (401, {"message": SESSION_ENDED})
    assert gateway.request("GET", "/users/me", token=deleted_token).status == 401
    assert (
        gateway.request("PATCH", "/users/me", json={"name": "X"}, token=deleted_token).status == 401
    )
    fresh = gateway.login(signed_out)["access_token"]
    assert gateway.request("GET", "/users/me", token=fresh).status == 200


def test_given_a_session_when_logging_out_then_its_family_dies_and_others_live(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    one, two = gateway.login(user), gateway.login(user)

    response = gateway.request(
        "POST",
        "/auth/logout",
        json={"refresh_token": one["refresh_token"]},
        token=one["access_token"],
    )

    assert response.status == 204
    assert _refresh(gateway, one["refresh_token"]).status == 401
    assert _refresh(gateway, two["refresh_token"]).status == 200


def test_given_all_true_when_logging_out_then_every_session_of_the_caller_dies(
    gateway: GatewayClient,
) -> None:
    user, bystander = gateway.register(), gateway.register()
    one, two, theirs = gateway.login(user), gateway.login(user), gateway.login(bystander)

    response = gateway.request(
        "POST", "/auth/logout", json={"all": True}, token=one["access_token"]
    )

    assert response.status == 204
    assert _refresh(gateway, one["refresh_token"]).status == 401
    assert _refresh(gateway, two["refresh_token"]).status == 401
    assert _refresh(gateway, theirs["refresh_token"]).status == 200


def test_given_someone_elses_refresh_token_when_logging_out_then_401_and_it_lives(
    gateway: GatewayClient,
) -> None:
    mine, theirs = gateway.login(gateway.register()), gateway.login(gateway.register())

    response = gateway.request(
        "POST",
        "/auth/logout",
        json={"refresh_token": theirs["refresh_token"]},
        token=mine["access_token"],
    )

    assert response.status == 401
    assert _refresh(gateway, theirs["refresh_token"]).status == 200


def test_given_a_revoked_access_token_when_logging_out_everywhere_then_401_and_sessions_live(
    gateway: GatewayClient,
) -> None:
    """A stolen token that a sign-out everywhere revoked cannot keep signing the user out."""
    user = gateway.register()
    stolen = gateway.login(user)["access_token"]
    gateway.request("POST", "/auth/logout", json={"all": True}, token=stolen)
    fresh = gateway.login(user)

    replayed = gateway.request("POST", "/auth/logout", json={"all": True}, token=stolen)

    assert (replayed.status, replayed.json) == (401, {"message": SESSION_ENDED})
    assert gateway.request("GET", "/users/me", token=fresh["access_token"]).status == 200
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert refreshed.status == 200


def test_given_no_token_and_no_all_when_logging_out_then_422(gateway: GatewayClient) -> None:
    tokens = gateway.login(gateway.register())

    response = gateway.request("POST", "/auth/logout", json={}, token=tokens["access_token"])

    assert response.status == 422


# ---------------------------------------------------------------- keys
def test_given_the_jwks_route_when_fetched_anonymously_then_it_verifies_issued_tokens(
    gateway: GatewayClient,
) -> None:
    token = gateway.login(gateway.register())["access_token"]

    response = gateway.request("GET", "/.well-known/jwks.json")

    assert response.status == 200
    keys = {jwk["kid"]: jwk for jwk in response.json["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    assert "d" not in keys[kid]
    public = jwt.PyJWK(keys[kid]).key
    claims = jwt.decode(token, public, algorithms=["ES256"], options={"verify_aud": False})
    assert claims["roles"] == ["user"]


def _activate_staged(stack: Stack) -> SigningKeySet:
    """`userflow keys activate` once the staged key has been published long enough."""
    keys = KeyLocations.of(stack)
    now = datetime.now(UTC)
    staged = keys.read().with_staged(now, signs_from=now)
    activated = staged.activated(now, DEFAULT_RETAIN_RETIRED)
    keys.store(activated)
    return activated


def test_given_a_key_rotation_when_old_and_new_tokens_are_used_then_both_are_accepted(
    gateway: GatewayClient,
) -> None:
    user = gateway.register()
    old = gateway.login(user)["access_token"]

    rotated = _activate_staged(gateway.stack)
    reset_auth_caches()  # as if the functions' 5-minute caches had expired
    new = gateway.login(user)["access_token"]

    assert jwt.get_unverified_header(new)["kid"] == rotated.current.kid
    assert jwt.get_unverified_header(old)["kid"] != rotated.current.kid
    assert gateway.request("GET", "/users/me", token=old).status == 200
    assert gateway.request("GET", "/users/me", token=new).status == 200


def test_given_a_key_the_authorizer_has_not_cached_yet_when_used_then_it_refetches_the_jwks(
    gateway: GatewayClient,
) -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    user = gateway.register()
    warm = gateway.login(user)["access_token"]
    assert gateway.request("GET", "/users/me", token=warm).status == 200  # JWKS now cached
    keys = KeyLocations.of(gateway.stack)  # an emergency: a key that signs before it is known
    keys.store(keys.read().rotated(datetime.now(UTC), DEFAULT_RETAIN_RETIRED))
    DEFAULT_PROVIDERS["secrets"].clear_cache()  # the signer's cache expires before the JWKS's

    token = gateway.login(user)["access_token"]

    assert gateway.request("GET", "/users/me", token=token).status == 200
