"""Automatic rotation of the signing key secret: Secrets Manager's Lambda rotation protocol.

Secrets Manager starts a rotation by attaching ``AWSPENDING`` to a new, empty version whose id is
the ``ClientRequestToken``, then invokes the function once per step with that token:

- ``createSecret`` stores the next key set (``next_key_set``, as `userflow keys rotate` makes it)
  in that version;
- ``setSecret`` publishes a JWKS holding the pending key, so verifiers know it before it signs;
  the key that still signs is published without an expiry until it stops signing;
- ``testSecret`` signs a token with the pending key and verifies it against the published JWKS;
- ``finishSecret`` moves ``AWSCURRENT`` to the version, then publishes its JWKS, in which the
  previous key expires once the tokens it may still sign (signers cache the secret) have expired.

Every step may be retried, so each one is idempotent. A version that is not being rotated in is
refused with ``ValueError``, as AWS's rotation templates do. Should a rotation stall between
createSecret and finishSecret for more than a few minutes, the previous key's grace (counted from
createSecret) is that much shorter: callers whose token is then refused refresh it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from adapters.key_store import CURRENT, PENDING, next_key_set, publish_jwks, read_key_set
from domain.tokens import SessionClaims, SigningKeySet, TokenIssuer, TokenSettings, TokenVerifier

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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secrets = secrets
        self._ssm = ssm
        self._parameter = parameter
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
        put meanwhile (`userflow keys rotate`) would otherwise be dropped while it signs."""
        current = read_key_set(self._secrets, secret_id)
        if current is not None and current.current.kid not in {k.kid for k in pending.keys}:
            raise ValueError("the signing key changed since createSecret; rotation abandoned")
        return current

    def _create(self, secret_id: str, token: str) -> None:
        if read_key_set(self._secrets, secret_id, stage=PENDING, version_id=token) is not None:
            return
        pending = next_key_set(read_key_set(self._secrets, secret_id), self._clock())
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
        keys = [signing if signing and key.kid == signing.kid else key for key in pending.keys]
        publish_jwks(self._ssm, self._parameter, SigningKeySet(keys=keys).public_jwks())

    def _test(self, secret_id: str, token: str) -> None:
        pending = self._pending(secret_id, token)
        published = self._ssm.get_parameter(Name=self._parameter)["Parameter"]["Value"]
        verifier = TokenVerifier(
            json.loads(published), _TEST_SETTINGS.issuer, _TEST_SETTINGS.audience
        )
        probe = SessionClaims(family_id="rotation-test", auth_time=datetime.now(UTC), amr=())
        issued = TokenIssuer(pending.current, _TEST_SETTINGS).issue(
            "rotation-test", [], session=probe
        )
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
