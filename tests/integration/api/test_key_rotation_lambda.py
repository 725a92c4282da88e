"""KeyRotationFunction, driven step by step as Secrets Manager drives a rotation (moto cannot run
the function from rotate_secret): `start_rotation` adds the empty AWSPENDING version, then each
step is invoked with its ClientRequestToken. Tokens are signed as login signs them (the secret's
AWSCURRENT version, once the signer's cache has expired) and verified against the published JWKS.

Each rotation activates the key staged before (when it has been published for the JWKS cache
lifetime: ``published_long_ago`` stands for the 30 days between two rotations) and stages the next.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from adapters.key_store import (
    SigningKeySource,
    jwks_parameter_name,
    read_key_set,
    store_key_set,
)
from domain.clock import utc_now
from domain.token_verifier import InvalidToken, TokenVerifier
from domain.tokens import SessionClaims, TokenSettings
from tests.support.api_clients import ApiClient
from tests.support.moto_patches import start_rotation
from userflow.local_stack import bootstrap
from userflow.stack import Stack

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

SETTINGS = TokenSettings(issuer="urn:userflow:test", audience="urn:userflow:test:api")
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

Step = Callable[[str, str], None]


@dataclass(frozen=True)
class Keys:
    stack: Stack
    secrets: SecretsManagerClient
    ssm: SSMClient
    secret_id: str
    parameter: str


def keys_of(stack: Stack) -> Keys:
    return Keys(
        stack,
        stack.client("secretsmanager"),
        stack.client("ssm"),
        stack.physical_id("SigningKeySecret"),
        jwks_parameter_name(stack.name),
    )


@pytest.fixture
def keys(api: ApiClient) -> Keys:
    """A stack with its first signing key, as `userflow keys ensure` leaves it."""
    bootstrap(api.stack)
    return keys_of(api.stack)


@pytest.fixture
def step(api: ApiClient, keys: Keys) -> Step:
    """Invokes the rotation function as Secrets Manager does: ``step(name, token)``."""

    def invoke(name: str, token: str) -> None:
        event = {"Step": name, "SecretId": keys.secret_id, "ClientRequestToken": token}
        api.invoke("KeyRotationFunction", event)

    return invoke


def sign(keys: Keys) -> str:
    """A token as login signs it once its cached copy of the secret has expired."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    issuer = SigningKeySource(keys.secret_id, SETTINGS).current_issuer()
    session = SessionClaims(family_id="family-1", auth_time=datetime.now(UTC), amr=("pwd",))
    return issuer.issue("user-1", ["user"], session=session).token


def published(keys: Keys) -> dict[str, Any]:
    jwks: dict[str, Any] = json.loads(
        keys.ssm.get_parameter(Name=keys.parameter)["Parameter"]["Value"]
    )
    return jwks


def published_kids(keys: Keys) -> dict[str, int | None]:
    """Each published kid, with its expiry (None while the key may sign)."""
    return {jwk["kid"]: jwk.get("exp") for jwk in published(keys)["keys"]}


def verify(keys: Keys, token: str, at: float | None = None) -> None:
    """Raises InvalidToken unless the published JWKS accepts the token (at epoch ``at``)."""
    verifier = TokenVerifier(
        published(keys),
        SETTINGS.issuer,
        SETTINGS.audience,
        clock=utc_now if at is None else (lambda: datetime.fromtimestamp(at, UTC)),
    )
    verifier.verify(token)


def stored_kid(keys: Keys, **version: str) -> str:
    """The signing kid of a stored version (AWSCURRENT by default)."""
    key_set = read_key_set(keys.secrets, keys.secret_id, **version)
    assert key_set is not None
    return key_set.current.kid


def kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def stages(keys: Keys) -> dict[str, list[str]]:
    """Labelled versions only: Secrets Manager deprecates (and later deletes) unlabelled ones."""
    described = keys.secrets.describe_secret(SecretId=keys.secret_id)
    return {
        version: sorted(labels)
        for version, labels in described["VersionIdsToStages"].items()
        if labels
    }


def current_version(keys: Keys) -> str:
    return next(version for version, labels in stages(keys).items() if "AWSCURRENT" in labels)


def rotate(keys: Keys, step: Step) -> str:
    """A whole rotation, as Secrets Manager runs it; returns its ClientRequestToken."""
    token = start_rotation(keys.stack)
    for name in STEPS:
        step(name, token)
    return token


def staged_kid(keys: Keys) -> str:
    key_set = read_key_set(keys.secrets, keys.secret_id)
    assert key_set is not None
    assert key_set.staged is not None
    return key_set.staged.kid


def published_long_ago(keys: Keys) -> str:
    """The staged key as the next rotation finds it, published for weeks; its kid."""
    key_set = read_key_set(keys.secrets, keys.secret_id)
    assert key_set is not None
    assert key_set.staged is not None
    weeks_ago = datetime.now(UTC) - timedelta(days=29)
    staged = key_set.staged.model_copy(update={"signs_from": weeks_ago})
    keys.secrets.put_secret_value(
        SecretId=keys.secret_id,
        SecretString=key_set.model_copy(update={"staged": staged}).model_dump_json(),
    )
    return staged.kid


def test_given_a_new_stack_when_its_first_rotation_runs_then_it_makes_a_key_and_stages_the_next(
    api: ApiClient,
) -> None:
    stack = api.stack
    keys = keys_of(stack)
    assert read_key_set(keys.secrets, keys.secret_id) is None  # the template's placeholder
    token = start_rotation(stack)

    for name in STEPS:
        event = {"Step": name, "SecretId": keys.secret_id, "ClientRequestToken": token}
        api.invoke("KeyRotationFunction", event)

    # The first key signs at once (nothing was verified before); its successor is published.
    assert published_kids(keys) == {stored_kid(keys): None, staged_kid(keys): None}
    verify(keys, sign(keys))


def test_given_a_key_staged_long_ago_when_a_rotation_completes_then_it_signs_and_a_next_is_staged(
    keys: Keys, step: Step
) -> None:
    before = sign(keys)
    staged = published_long_ago(keys)

    token = rotate(keys, step)

    after = sign(keys)
    assert kid(after) == staged != kid(before)
    assert kid(after) == stored_kid(keys)
    verify(keys, after)
    assert staged_kid(keys) not in (kid(before), staged)
    assert staged_kid(keys) in published_kids(keys)
    assert stages(keys)[token] == ["AWSCURRENT"]
    assert sorted(stages(keys).values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]


def test_given_a_key_staged_moments_ago_when_a_rotation_runs_then_it_does_not_sign_yet(
    keys: Keys, step: Step
) -> None:
    """Verifiers may hold a JWKS without it: the rotation leaves it for a later activation."""
    before = sign(keys)
    staged = staged_kid(keys)  # staged by `keys ensure` just now

    rotate(keys, step)

    assert kid(sign(keys)) == kid(before)
    assert staged_kid(keys) == staged


def test_given_a_token_signed_before_a_rotation_when_verified_after_it_then_valid_until_retired(
    keys: Keys, step: Step
) -> None:
    before = sign(keys)
    published_long_ago(keys)
    rotate(keys, step)

    retired_until = published_kids(keys)[kid(before)]

    assert retired_until is not None
    verify(keys, before)
    verify(keys, before, at=retired_until - 1)
    with pytest.raises(InvalidToken, match="expired"):
        verify(keys, before, at=retired_until)


def test_given_a_started_rotation_when_its_steps_run_then_no_key_signs_before_it_was_published(
    keys: Keys, step: Step
) -> None:
    old_kid = kid(sign(keys))
    activated = published_long_ago(keys)
    published_before = set(published_kids(keys))
    token = start_rotation(keys.stack)

    step("createSecret", token)
    pending_kid = stored_kid(keys, stage="AWSPENDING", version_id=token)
    assert pending_kid == activated
    assert pending_kid in published_before  # published since the previous rotation
    next_kid = read_key_set(keys.secrets, keys.secret_id, stage="AWSPENDING", version_id=token)
    assert next_kid is not None
    assert next_kid.staged is not None
    assert kid(sign(keys)) == old_kid

    step("setSecret", token)
    # The next key is published now; the old key keeps no expiry while it still signs.
    assert published_kids(keys) == {pending_kid: None, old_kid: None, next_kid.staged.kid: None}
    assert kid(sign(keys)) == old_kid

    step("testSecret", token)
    assert kid(sign(keys)) == old_kid

    step("finishSecret", token)
    assert kid(sign(keys)) == pending_kid
    assert published_kids(keys)[pending_kid] is None
    assert published_kids(keys)[old_kid] is not None
    assert next_kid.staged.kid in published_kids(keys)


def test_given_each_step_when_retried_then_the_rotation_ends_the_same(
    keys: Keys, step: Step
) -> None:
    before = sign(keys)
    published_long_ago(keys)
    token = start_rotation(keys.stack)

    def state() -> tuple[Any, ...]:
        rotated_in = keys.secrets.get_secret_value(SecretId=keys.secret_id, VersionId=token)
        return stages(keys), rotated_in["SecretString"], published(keys), kid(sign(keys))

    for name in STEPS:
        step(name, token)
        first = state()
        step(name, token)
        assert state() == first, name

    assert len(stages(keys)) == 2
    assert set(published_kids(keys)) == {kid(before), kid(sign(keys)), staged_kid(keys)}


def test_given_a_version_not_being_rotated_in_when_a_step_runs_then_it_is_refused(
    keys: Keys, step: Step
) -> None:
    current = current_version(keys)

    with pytest.raises(ValueError, match="no stage for rotation"):
        step("createSecret", "4c1e0a56-0000-4000-8000-000000000000")
    with pytest.raises(ValueError, match="unknown rotation step"):
        step("deleteSecret", start_rotation(keys.stack))
    step("createSecret", current)  # already current: nothing to do

    assert current_version(keys) == current


def _operator_stages(keys: Keys) -> str:
    """`userflow keys rotate` meanwhile: a new staged key, stored as the CLI stores it."""
    key_set = read_key_set(keys.secrets, keys.secret_id)
    assert key_set is not None
    now = datetime.now(UTC)
    staged = key_set.with_staged(now, now + timedelta(minutes=5))
    store_key_set(
        keys.secrets, keys.ssm, secret_id=keys.secret_id, parameter=keys.parameter, key_set=staged
    )
    assert staged.staged is not None
    return staged.staged.kid


def test_given_a_key_staged_by_an_operator_during_a_rotation_when_steps_follow_then_abandoned(
    keys: Keys, step: Step
) -> None:
    signing = kid(sign(keys))
    token = start_rotation(keys.stack)
    step("createSecret", token)

    staged = _operator_stages(keys)

    for name in ("setSecret", "testSecret", "finishSecret"):
        with pytest.raises(ValueError, match="not AWSPENDING"):
            step(name, token)
    assert ["AWSPENDING"] not in stages(keys).values()
    assert kid(sign(keys)) == signing
    assert published_kids(keys)[staged] is None


def test_given_the_keys_changed_after_create_secret_when_finishing_then_it_is_refused(
    keys: Keys, step: Step
) -> None:
    """The pending set must descend from the stored one, or finishing would drop a live key (or
    a staged one verifiers are learning)."""
    token = start_rotation(keys.stack)
    step("createSecret", token)
    key_set = read_key_set(keys.secrets, keys.secret_id)
    assert key_set is not None
    now = datetime.now(UTC)
    replacement = keys.secrets.put_secret_value(
        SecretId=keys.secret_id,
        SecretString=key_set.with_staged(now, now).model_dump_json(),
    )

    for name in ("setSecret", "finishSecret"):
        with pytest.raises(ValueError, match="signing keys changed"):
            step(name, token)

    assert stages(keys)[replacement["VersionId"]] == ["AWSCURRENT"]
