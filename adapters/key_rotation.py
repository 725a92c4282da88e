"""Automatic rotation of the signing key secret: Secrets Manager's Lambda rotation protocol.

Each scheduled rotation does the two steps of a key change in order (``scheduled_key_set``): the
key staged by the previous rotation (published since, 30 days) becomes the signing key, then the
next one is staged - published now, signing at the next rotation. A key therefore signs only once
every verifier's cached JWKS holds it, as with `userflow keys rotate` then `keys activate`.

Secrets Manager starts a rotation by attaching ``AWSPENDING`` to a new, empty version whose id is
the ``ClientRequestToken``, then invokes the function once per step with that token:

- ``createSecret`` stores that next key set in the version;
- ``setSecret`` publishes a JWKS holding every key of both sets; the key that still signs is
  published without an expiry until it stops signing;
- ``testSecret`` signs a token with each key of the pending set that signs or will (the new
  signing key, the staged one) and verifies it against the published JWKS;
- ``finishSecret`` moves ``AWSCURRENT`` to the version, then publishes its JWKS, in which the
  previous key expires once the tokens it may still sign (signers cache the secret) have expired.

Every step may be retried, so each one is idempotent. A version that is not being rotated in is
refused with ``ValueError``, as AWS's rotation templates do; so is a rotation whose set no longer
derives from the signing one (`userflow keys` changed it meanwhile). Should a rotation stall
between createSecret and finishSecret for more than a few minutes, the previous key's grace
(counted from createSecret) is that much shorter: callers whose token is then refused refresh it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from adapters.key_store import CURRENT, PENDING, publish_jwks, read_key_set, scheduled_key_set
from domain.clock import Clock, utc_now
from domain.signing_keys import SigningKeySet, StoredKey
from domain.token_verifier import TokenVerifier
from domain.tokens import SessionClaims, TokenIssuer, TokenSettings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
# Only for the test token of testSecret: no API accepts this issuer and audience.
_TEST_SETTINGS = TokenSettings(issuer="urn:userflow:rotation-test", audience="urn:userflow:none")


class SigningKeyRotation:
    """Runs one rotation step for the signing key secret; the JWKS goes to ``parameter``."""

    def __init__(
        self,
        secrets: SecretsManagerClient,
        ssm: SSMClient,
        parameter: str,
        ahead: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        """``ahead``: how long a key is published before it may sign (``publish_ahead``)."""
        self._secrets = secrets
        self._ssm = ssm
        self._parameter = parameter
        self._ahead = ahead
        self._clock = clock

    def run(self, secret_id: str, token: str, step: str) -> None:
        if step not in STEPS:
            raise ValueError(f"unknown rotation step {step!r}")
        versions = self._secrets.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
        stages = versions.get(token)
        if stages is None:
            raise ValueError(f"version {token} has no stage for rotation")
        if PENDING not in stages:
            if CURRENT not in stages:
                raise ValueError(f"version {token} is not AWSPENDING")
            if step != "finishSecret":
                return  # already rotated in: a late retry
        if step == "createSecret":
            self._create(secret_id, token)
        elif step == "setSecret":
            self._set(secret_id, token)
        elif step == "testSecret":
            self._test(secret_id, token)
        else:
            self._finish(secret_id, token, versions)

    def _pending(self, secret_id: str, token: str, stage: str = PENDING) -> SigningKeySet:
        pending = read_key_set(self._secrets, secret_id, stage=stage, version_id=token)
        if pending is None:
            raise ValueError(f"version {token} holds no key set: createSecret did not run")
        return pending

    def _current(self, secret_id: str, pending: SigningKeySet) -> SigningKeySet | None:
        """The signing key set, checked to be the one ``pending`` was derived from: a key set
        put meanwhile (`userflow keys`) would otherwise be dropped while it signs, or its staged
        key dropped while verifiers learn it."""
        current = read_key_set(self._secrets, secret_id)
        if current is None:
            return None
        kept = {key.kid for key in _published(pending)}
        if any(key.kid not in kept for key in (current.current, current.staged) if key):
            raise ValueError("the signing keys changed since createSecret; rotation abandoned")
        return current

    def _create(self, secret_id: str, token: str) -> None:
        if read_key_set(self._secrets, secret_id, stage=PENDING, version_id=token) is not None:
            return
        current = read_key_set(self._secrets, secret_id)
        pending = scheduled_key_set(current, self._clock(), self._ahead)
        self._secrets.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=pending.model_dump_json(),
            VersionStages=[PENDING],
        )

    def _set(self, secret_id: str, token: str) -> None:
        pending = self._pending(secret_id, token)
        current = self._current(secret_id, pending)
        signing = current.current if current else None
        keys = [
            signing if signing and key.kid == signing.kid else key for key in _published(pending)
        ]
        publish_jwks(self._ssm, self._parameter, {"keys": [key.public_jwk() for key in keys]})

    def _test(self, secret_id: str, token: str) -> None:
        pending = self._pending(secret_id, token)
        published = self._ssm.get_parameter(Name=self._parameter)["Parameter"]["Value"]
        verifier = TokenVerifier(
            json.loads(published), _TEST_SETTINGS.issuer, _TEST_SETTINGS.audience
        )
        probe = SessionClaims(family_id="rotation-test", auth_time=datetime.now(UTC), amr=())
        for key in (pending.current, pending.staged):
            if key is not None:
                issued = TokenIssuer(key, _TEST_SETTINGS).issue("rotation-test", [], session=probe)
                verifier.verify(issued.token)  # InvalidToken fails the rotation

    def _finish(self, secret_id: str, token: str, versions: dict[str, list[str]]) -> None:
        if CURRENT not in versions[token]:
            pending = self._pending(secret_id, token)
            self._current(secret_id, pending)
            previous = next((v for v, stages in versions.items() if CURRENT in stages), None)
            self._secrets.update_secret_version_stage(
                SecretId=secret_id,
                VersionStage=CURRENT,
                MoveToVersionId=token,
                **({"RemoveFromVersionId": previous} if previous else {}),
            )
        if PENDING in versions[token]:
            self._secrets.update_secret_version_stage(
                SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=token
            )
        # Also on a retry: the previous attempt may have moved the label but not published.
        publish_jwks(
            self._ssm, self._parameter, self._pending(secret_id, token, CURRENT).public_jwks()
        )


def _published(key_set: SigningKeySet) -> list[StoredKey]:
    """Every key the set publishes: the signing one, the retired ones, the staged one."""
    return [*key_set.keys, *([key_set.staged] if key_set.staged else [])]
