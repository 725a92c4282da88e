"""Passkeys through the gateway (routes, the Lambda authorizer, each function with its own
environment) on moto, with real WebAuthn ceremonies by a software authenticator."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from boto3.dynamodb.types import TypeDeserializer

from adapters.dynamodb_passkey_repository import DynamoDBPasskeyRepository
from adapters.user_items import user_key
from domain.passkeys import Passkey
from domain.webauthn_json import passkey_id
from tests.support.api_clients import ApiResponse, CreatedUser, GatewayClient
from tests.support.stream_records import as_published, assert_published_event_is_valid
from tests.support.webauthn_authenticator import SoftAuthenticator, from_b64url

ORIGIN = "http://localhost:3000"  # the local stack's default (userflow/local_stack.py)
MAIL_KINDS_OF_PASSKEYS = {"passkey_added", "passkey_removed", "passkey_blocked", "password_removed"}


class Account:
    """A registered user, signed in with the password just now, and the API calls they make."""

    def __init__(self, gateway: GatewayClient, *, admin: bool = False) -> None:
        self.gateway = gateway
        self.user: CreatedUser = gateway.register(admin=admin)
        self.tokens = gateway.login(self.user)

    @property
    def access(self) -> str:
        return str(self.tokens["access_token"])

    def call(self, method: str, path: str, json: object = None) -> ApiResponse:
        return self.gateway.request(method, path, json=json, token=self.access)

    def registration_options(self) -> dict[str, Any]:
        asked = self.call("POST", "/users/me/passkeys/options")
        assert asked.status == 200, asked.text
        body: dict[str, Any] = asked.json
        return body

    def register(self, authenticator: SoftAuthenticator, name: str | None = None) -> ApiResponse:
        options = self.registration_options()
        credential = authenticator.create(options["options"])
        body: dict[str, Any] = {"challenge_id": options["challenge_id"], "credential": credential}
        if name is not None:
            body["name"] = name
        return self.call("POST", "/users/me/passkeys", body)

    def passkeys(self) -> list[dict[str, Any]]:
        listed = self.call("GET", "/users/me/passkeys")
        assert listed.status == 200, listed.text
        items: list[dict[str, Any]] = listed.json["items"]
        return items


def sign_in_options(gateway: GatewayClient, email: str | None = None) -> dict[str, Any]:
    asked = gateway.request(
        "POST", "/auth/passkey/options", json={"email": email} if email else None
    )
    assert asked.status == 200, asked.text
    body: dict[str, Any] = asked.json
    return body


def sign_in(
    gateway: GatewayClient,
    authenticator: SoftAuthenticator,
    *,
    email: str | None = None,
    options: dict[str, Any] | None = None,
    **get: Any,
) -> ApiResponse:
    asked = options or sign_in_options(gateway, email)
    credential = authenticator.get(asked["options"], **get)
    return gateway.request(
        "POST",
        "/auth/passkey",
        json={"challenge_id": asked["challenge_id"], "credential": credential},
    )


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def outbox(gateway: GatewayClient, user_id: str) -> list[str]:
    """Kinds of the passkey-related messages queued for a user, in no particular order."""
    items = gateway.db.scan(TableName=gateway.table)["Items"]
    return sorted(
        item["kind"]["S"]
        for item in items
        if item["PK"]["S"].startswith("MAIL#")
        and item["user_id"]["S"] == user_id
        and item["kind"]["S"] in MAIL_KINDS_OF_PASSKEYS
    )


@pytest.fixture
def account(gateway: GatewayClient) -> Account:
    return Account(gateway)


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def registered(account: Account, authenticator: SoftAuthenticator) -> dict[str, Any]:
    created = account.register(authenticator, name="Work laptop")
    assert created.status == 201, created.text
    passkey: dict[str, Any] = created.json
    return passkey


# ---------------------------------------------------------------- registration
def test_given_a_fresh_login_when_a_passkey_is_registered_then_201_listed_counted_and_mailed(
    gateway: GatewayClient, account: Account, authenticator: SoftAuthenticator
) -> None:
    created = account.register(authenticator, name="Work laptop")

    assert created.status == 201, created.text
    passkey = created.json
    assert set(passkey) == set(Passkey.model_fields)
    credential_id = authenticator.credentials[0].credential_id
    assert passkey["id"] == passkey_id(credential_id)
    assert (passkey["name"], passkey["last_used_at"], passkey["backed_up"]) == (
        "Work laptop",
        None,
        False,
    )
    assert created.headers["location"] == f"/users/me/passkeys/{passkey['id']}"
    assert created.headers["cache-control"] == "no-store"
    assert account.passkeys() == [passkey]
    me = account.call("GET", "/users/me").json
    assert (me["passkey_count"], me["version"]) == (1, 2)
    assert outbox(gateway, account.user.id) == ["passkey_added"]


def test_given_a_passkey_when_options_are_asked_again_then_its_authenticator_is_excluded(
    account: Account, authenticator: SoftAuthenticator, registered: dict[str, Any]
) -> None:
    options = account.registration_options()["options"]

    excluded = [from_b64url(c["id"]) for c in options["excludeCredentials"]]
    assert excluded == [authenticator.credentials[0].credential_id]
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert (options["rp"], options["user"]["name"]) == (
        {"id": "localhost", "name": "Userflow"},
        account.user.email,
    )
    assert from_b64url(options["user"]["id"]) == account.user.id.encode()


def test_given_a_registration_challenge_when_used_twice_then_the_second_is_400(
    account: Account, authenticator: SoftAuthenticator
) -> None:
    options = account.registration_options()
    first = authenticator.create(options["options"])
    second = SoftAuthenticator(origin=ORIGIN).create(options["options"])

    results = [
        account.call(
            "POST", "/users/me/passkeys", {"challenge_id": options["challenge_id"], "credential": c}
        )
        for c in (first, second)
    ]

    assert [r.status for r in results] == [201, 400]
    assert results[1].json == {
        "message": "The passkey could not be registered; ask for new options and try again"
    }
    assert len(account.passkeys()) == 1


def test_given_another_users_registration_challenge_when_used_then_400(
    gateway: GatewayClient, account: Account, authenticator: SoftAuthenticator
) -> None:
    victim_options = account.registration_options()
    attacker = Account(gateway)
    credential = authenticator.create(victim_options["options"])

    taken = attacker.call(
        "POST",
        "/users/me/passkeys",
        {"challenge_id": victim_options["challenge_id"], "credential": credential},
    )

    assert taken.status == 400
    assert attacker.passkeys() == []
    assert account.passkeys() == []


@pytest.mark.parametrize(
    "authenticator_kind",
    [
        pytest.param(SoftAuthenticator(origin=ORIGIN, verifies_user=False), id="no-uv"),
        pytest.param(SoftAuthenticator(origin="https://evil.example"), id="wrong-origin"),
    ],
)
def test_given_an_attestation_that_must_not_verify_when_registered_then_400(
    account: Account, authenticator_kind: SoftAuthenticator
) -> None:
    refused = account.register(authenticator_kind)

    assert refused.status == 400
    assert account.passkeys() == []


def test_given_a_credential_registered_to_one_user_when_stored_for_another_then_refused(
    gateway: GatewayClient, account: Account, registered: dict[str, Any]
) -> None:
    repository = DynamoDBPasskeyRepository(gateway.table, db=gateway.db)
    other = Account(gateway)
    [stored] = repository.list_for_user(account.user.id)
    owner = gateway._users.get(other.user.id)
    updated = owner.model_copy(
        update={"user": owner.user.model_copy(update={"passkey_count": 1, "version": 2})}
    )
    from domain.mail import MailKind
    from domain.passkey_service import notice

    stolen = stored.model_copy(update={"user_id": other.user.id})

    assert not repository.add(stolen, updated, owner, notice(MailKind.PASSKEY_ADDED, owner))
    assert repository.list_for_user(other.user.id) == []
    assert gateway._users.get(other.user.id).user.version == 1


# ---------------------------------------------------------------- signing in
@pytest.mark.parametrize(("synced", "method"), [(False, "hwk"), (True, "swk")])
def test_given_a_passkey_when_signing_in_without_a_password_then_tokens_with_its_amr(
    gateway: GatewayClient, account: Account, synced: bool, method: str
) -> None:
    device = SoftAuthenticator(origin=ORIGIN, synced=synced, counter_step=0 if synced else 1)
    assert account.register(device).status == 201

    signed_in = sign_in(gateway, device)

    assert signed_in.status == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"
    tokens = signed_in.json
    token_claims = claims(tokens["access_token"])
    assert token_claims["sub"] == account.user.id
    assert token_claims["amr"] == [method, "user"]
    assert token_claims["auth_time"] >= claims(account.access)["auth_time"]
    me = gateway.request("GET", "/users/me", token=tokens["access_token"])
    assert me.json["id"] == account.user.id
    [passkey] = account.passkeys()
    assert passkey["last_used_at"] is not None
    assert passkey["backed_up"] is synced
    refreshed = gateway.request(
        "POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert claims(refreshed.json["access_token"])["amr"] == [method, "user"]


def test_given_a_sign_in_challenge_when_replayed_then_401(
    gateway: GatewayClient, authenticator: SoftAuthenticator, registered: dict[str, Any]
) -> None:
    options = sign_in_options(gateway)
    first = sign_in(gateway, authenticator, options=options)
    replayed = sign_in(gateway, authenticator, options=options)

    assert (first.status, replayed.status) == (200, 401)
    assert replayed.json == {"message": "Invalid credentials"}


def test_given_an_expired_challenge_when_used_then_401(
    gateway: GatewayClient, authenticator: SoftAuthenticator, registered: dict[str, Any]
) -> None:
    options = sign_in_options(gateway)
    gateway.db.update_item(
        TableName=gateway.table,
        Key={"PK": {"S": f"CHALLENGE#{options['challenge_id']}"}, "SK": {"S": "CHALLENGE"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )

    assert sign_in(gateway, authenticator, options=options).status == 401


@pytest.mark.parametrize(
    "phished",
    [{"origin": "https://login.evil.example"}, {"rp_id": "evil.example"}],
    ids=["wrong-origin", "wrong-rp-id"],
)
def test_given_an_assertion_made_elsewhere_when_presented_then_401_and_the_passkey_still_works(
    gateway: GatewayClient,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
    phished: dict[str, Any],
) -> None:
    assert sign_in(gateway, authenticator, **phished).status == 401
    assert sign_in(gateway, authenticator).status == 200


def test_given_a_user_verification_less_assertion_when_presented_then_401(
    gateway: GatewayClient, authenticator: SoftAuthenticator, registered: dict[str, Any]
) -> None:
    authenticator.verifies_user = False

    assert sign_in(gateway, authenticator).status == 401


def test_given_an_altered_user_handle_when_presented_then_401(
    gateway: GatewayClient, authenticator: SoftAuthenticator, registered: dict[str, Any]
) -> None:
    options = sign_in_options(gateway)
    credential = authenticator.get(options["options"])
    credential["response"]["userHandle"] = base64.urlsafe_b64encode(b"someone-else").decode()

    refused = gateway.request(
        "POST",
        "/auth/passkey",
        json={"challenge_id": options["challenge_id"], "credential": credential},
    )

    assert refused.status == 401


def test_given_a_cloned_authenticator_when_its_counter_goes_back_then_blocked_and_signed_out(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    clone = authenticator.clone()
    password_session = account.access
    owner_session = sign_in(gateway, authenticator).json
    assert sign_in(gateway, authenticator).status == 200  # counter at 2

    cloned = sign_in(gateway, clone)  # counter 1: a copy of the key

    assert cloned.status == 401
    assert cloned.json == {"message": "Invalid credentials"}
    [passkey] = Account.passkeys(_signed_in_again(gateway, account))
    assert passkey["blocked_at"] is not None
    for token in (owner_session["access_token"], password_session):
        assert gateway.request("GET", "/users/me", token=token).status == 401
    assert (
        gateway.request(
            "POST", "/auth/refresh", json={"refresh_token": owner_session["refresh_token"]}
        ).status
        == 401
    )
    assert sign_in(gateway, authenticator).status == 401  # blocked for good
    assert sign_in(gateway, clone).status == 401
    assert outbox(gateway, account.user.id) == ["passkey_added", "passkey_blocked"]


def _signed_in_again(gateway: GatewayClient, account: Account) -> Account:
    account.tokens = gateway.login(account.user)
    return account


def test_given_a_removed_passkey_when_signing_in_then_401(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    assert account.call("DELETE", f"/users/me/passkeys/{registered['id']}").status == 204

    assert sign_in(gateway, authenticator).status == 401
    assert account.call("GET", "/users/me").json["passkey_count"] == 0
    assert outbox(gateway, account.user.id) == ["passkey_added", "passkey_removed"]


def test_given_a_disabled_user_when_signing_in_with_a_passkey_then_401(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    admin = Account(gateway, admin=True)
    assert admin.call("POST", f"/users/{account.user.id}/disable").status == 204

    assert sign_in(gateway, authenticator).status == 401


# ---------------------------------------------------------------- options with an email
def test_given_an_email_when_options_asked_then_unknown_addresses_look_like_known_ones(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    without_passkey = Account(gateway)
    known = sign_in_options(gateway, account.user.email)["options"]
    unknown = [sign_in_options(gateway, "nobody@example.com")["options"] for _ in range(2)]
    no_passkey = sign_in_options(gateway, without_passkey.user.email)["options"]

    assert [from_b64url(c["id"]) for c in known["allowCredentials"]] == [
        authenticator.credentials[0].credential_id
    ]
    for options in (known, *unknown, no_passkey):
        assert set(options) == set(known)
        assert 1 <= len(options["allowCredentials"]) <= 2
        assert all(set(c) == {"id", "type", "transports"} for c in options["allowCredentials"])
    assert unknown[0]["allowCredentials"] == unknown[1]["allowCredentials"]
    assert unknown[0]["challenge"] != unknown[1]["challenge"]
    upper = sign_in_options(gateway, "NOBODY@Example.com")["options"]
    assert upper["allowCredentials"] == unknown[0]["allowCredentials"]
    assert no_passkey["allowCredentials"] != unknown[0]["allowCredentials"]


def test_given_options_for_one_email_when_another_users_passkey_answers_then_401(
    gateway: GatewayClient, account: Account, registered: dict[str, Any]
) -> None:
    other = Account(gateway)
    other_device = SoftAuthenticator(origin=ORIGIN)
    assert other.register(other_device).status == 201
    options = sign_in_options(gateway, account.user.email)

    # A discoverable pick of the other account's passkey, against options for this account.
    answered = sign_in(
        gateway,
        other_device,
        options={**options, "options": {**options["options"], "allowCredentials": []}},
    )

    assert answered.status == 401


# ---------------------------------------------------------------- list, rename, remove
def test_given_a_passkey_when_renamed_then_listed_under_its_new_name(
    account: Account, registered: dict[str, Any]
) -> None:
    renamed = account.call("PATCH", f"/users/me/passkeys/{registered['id']}", {"name": "Phone"})

    assert renamed.status == 200
    assert renamed.json == {**registered, "name": "Phone"}
    assert account.passkeys() == [renamed.json]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_given_an_unknown_malformed_or_someone_elses_passkey_id_then_404(
    gateway: GatewayClient, account: Account, registered: dict[str, Any], method: str
) -> None:
    other = Account(gateway)
    body = {"name": "Mine now"} if method == "PATCH" else None
    ids = [registered["id"], "A" * 43, "x" * 2048, "%00", ".."]

    statuses = [other.call(method, f"/users/me/passkeys/{i}", body).status for i in ids]

    assert statuses == [404] * len(ids)
    assert account.passkeys() == [registered]


def test_given_the_last_way_to_sign_in_when_removed_then_409_until_another_exists(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    assert account.call("DELETE", "/users/me/password").status == 204
    password_login = gateway.request(
        "POST", "/auth/login", json={"email": account.user.email, "password": account.user.password}
    )
    assert password_login.status == 401

    last = account.call("DELETE", f"/users/me/passkeys/{registered['id']}")

    assert last.status == 409
    assert last.json == {
        "message": "This is your last way to sign in; add a passkey or set a password first"
    }
    assert sign_in(gateway, authenticator).status == 200
    assert account.register(SoftAuthenticator(origin=ORIGIN)).status == 201
    assert account.call("DELETE", f"/users/me/passkeys/{registered['id']}").status == 204
    assert "password_removed" in outbox(gateway, account.user.id)


def test_given_no_passkey_when_the_password_is_removed_then_409_and_it_still_works(
    gateway: GatewayClient, account: Account
) -> None:
    refused = account.call("DELETE", "/users/me/password")

    assert refused.status == 409
    assert gateway.login(account.user)["access_token"]


def test_given_a_user_with_passkeys_when_deleted_then_no_passkey_item_or_claim_is_left(
    gateway: GatewayClient, account: Account, registered: dict[str, Any]
) -> None:
    assert account.register(SoftAuthenticator(origin=ORIGIN)).status == 201

    assert account.call("DELETE", f"/users/{account.user.id}").status == 204

    items = gateway.db.scan(TableName=gateway.table)["Items"]
    keys = [(item["PK"]["S"], item["SK"]["S"]) for item in items]
    left = [k for k in keys if k[0].startswith(("PASSKEY#", f"USER#{account.user.id}"))]
    assert left == [(f"USER#{account.user.id}", "TOMBSTONE")]  # the deletion's, nothing owned


def test_given_the_passkey_limit_when_more_options_are_asked_then_409(account: Account) -> None:
    for _ in range(10):
        assert account.register(SoftAuthenticator(origin=ORIGIN)).status == 201

    refused = account.call("POST", "/users/me/passkeys/options")

    assert refused.status == 409
    assert account.call("GET", "/users/me").json["passkey_count"] == 10


# ---------------------------------------------------------------- events
def test_given_a_passkey_change_when_streamed_then_one_user_update_and_no_key_material(
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    item = gateway.db.get_item(TableName=gateway.table, Key=user_key(account.user.id))["Item"]
    stored = TypeDeserializer().deserialize(item["passkey_count"])

    events = gateway.lifecycle_events()

    assert stored == 1
    [update] = [e for e in events if str(e.detail_type) == "UserUpdated"]
    assert update.detail.changed_fields == ["passkey_count"]
    published = "".join(event.detail_json() for event in events)
    credential = authenticator.credentials[0]
    assert base64.urlsafe_b64encode(credential.credential_id).decode().rstrip("=") not in published
    assert registered["id"] not in published
    assert "public_key" not in published
    assert "credential" not in published
    added = [d for kind, d in gateway.published(account.user.id) if kind == "PasskeyAdded"]
    assert [d["user"]["passkey_count"] for d in added] == [1]
    assert added[0]["actor"] == {"type": "user", "id": account.user.id}
    assert registered["id"] not in json.dumps(added)


def test_given_a_cloned_authenticator_when_blocked_then_sessions_revoked_for_passkey_cloned_by_the_system(  # noqa: E501
    gateway: GatewayClient,
    account: Account,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
) -> None:
    clone = authenticator.clone()
    assert sign_in(gateway, authenticator).status == 200
    before = gateway.published(account.user.id)

    assert sign_in(gateway, clone).status == 401  # the counter went back: blocked, signed out
    assert sign_in(gateway, clone).status == 401  # already blocked: nothing more is written

    new = gateway.published(account.user.id)[len(before) :]
    assert [kind for kind, _ in new] == ["SessionsRevoked"]  # no public change: no UserUpdated
    [(kind, revoked)] = new
    assert (revoked["scope"], revoked["reason"]) == ("all", "passkey_cloned")
    assert revoked["actor"] == {"type": "system"}
    assert revoked["user"]["version"] == before[-1][1]["user"]["version"] + 1
    assert revoked["correlation_id"] is not None  # the sign-in request that found the copy
    assert_published_event_is_valid(as_published(kind, revoked))
    assert registered["id"] not in json.dumps(revoked)


def test_given_a_change_of_the_user_meanwhile_when_a_cloned_passkey_is_blocked_then_at_the_version_after_it(  # noqa: E501
    gateway: GatewayClient, account: Account, registered: dict[str, Any]
) -> None:
    from domain.mail import MailKind
    from domain.passkey_service import notice

    repository = DynamoDBPasskeyRepository(gateway.table, db=gateway.db)
    [stored] = repository.list_for_user(account.user.id)
    stale = gateway._users.get(account.user.id)  # read before the change below
    renamed = account.call("PATCH", "/users/me", {"name": "Renamed"})
    assert renamed.status == 200, renamed.text

    repository.block(stored, stale, stored.created_at, notice(MailKind.PASSKEY_BLOCKED, stale))

    item = gateway.user_item(account.user.id)
    assert int(item["version"]["N"]) == stale.user.version + 2
    assert item["name"]["S"] == "Renamed"  # the concurrent change is kept
    [passkey] = repository.list_for_user(account.user.id)
    assert passkey.blocked_at is not None
    kinds = [kind for kind, _ in gateway.published(account.user.id)]
    assert kinds[-2:] == ["UserUpdated", "SessionsRevoked"]
    assert outbox(gateway, account.user.id) == ["passkey_added", "passkey_blocked"]


def test_given_users_with_and_without_passkeys_when_an_admin_lists_them_then_each_count_shows(
    gateway: GatewayClient, account: Account, registered: dict[str, Any]
) -> None:
    assert account.register(SoftAuthenticator(origin=ORIGIN)).status == 201
    admin = Account(gateway, admin=True)

    listed = admin.call("GET", "/users?limit=100").json["items"]

    counts = {user["id"]: user["passkey_count"] for user in listed}
    assert counts == {account.user.id: 2, admin.user.id: 0}


def test_given_a_source_past_the_login_limit_when_asking_for_sign_in_options_then_429(
    gateway: GatewayClient,
) -> None:
    statuses = [gateway.request("POST", "/auth/passkey/options").status for _ in range(101)]

    refused = gateway.request("POST", "/auth/passkey/options")

    assert statuses[:100] == [200] * 100  # LoginRequestsPerSource's default, per window
    assert (statuses[100], refused.status) == (429, 429)
    assert int(refused.headers["retry-after"]) > 0


@pytest.mark.parametrize("absent", [None, "omitted"])
def test_given_an_assertion_without_a_user_handle_when_presented_then_it_signs_in(
    gateway: GatewayClient,
    authenticator: SoftAuthenticator,
    registered: dict[str, Any],
    absent: str | None,
) -> None:
    """userHandle and authenticatorAttachment are optional (null or left out) in toJSON()."""
    options = sign_in_options(gateway)
    credential = authenticator.get(options["options"])
    credential["authenticatorAttachment"] = None
    if absent is None:
        credential["response"]["userHandle"] = None
    else:
        del credential["response"]["userHandle"]

    answered = gateway.request(
        "POST",
        "/auth/passkey",
        json={"challenge_id": options["challenge_id"], "credential": credential},
    )

    assert answered.status == 200, answered.text
