"""Signing keys: the private key set in Secrets Manager, the public JWKS in an SSM parameter.

Functions that verify tokens (the authorizer, the JWKS endpoint) read only the public parameter;
only login and refresh may read the secret. Both are read through the Parameters and Secrets
extension, which caches them (the JWKS for 5 minutes, the key set for ``SIGNER_CACHE_SECONDS``),
or without it through Powertools parameters with the same ``max_age``, so the hot path rarely
makes a network call. Signers read the version
labelled ``AWSCURRENT``.

A new key is *staged* first: published in the JWKS but not signing, for at least the verifiers'
JWKS cache lifetime (``publish_ahead``); only then may it be *activated*, so no verifier ever
meets a token signed by a key its cached JWKS lacks. `userflow keys rotate` stages and `userflow
keys activate` activates; the scheduled rotation (``adapters/key_rotation.py``) activates the key
staged before (30 days earlier) and stages the next. A retired key stays published until the last
token it signed has expired. Only an emergency (`keys rotate --retain-minutes 0`, a compromised
key) makes a key sign at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.parameters_extension import read_parameter, read_secret, through_extension
from domain.signing_keys import SigningKeySet, new_key_set
from domain.token_verifier import AccessClaims, TokenVerifier, UnknownSigningKey
from domain.tokens import MAX_ACCESS_TTL_SECONDS, SigningKeyMissing, TokenIssuer, TokenSettings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

CACHE_SECONDS = 300
"""How long verifiers may cache the JWKS by default (template parameter JwksCacheSeconds: the
extension's TTL, Powertools' max_age and the JWKS route's Cache-Control; 300 s is the most the
extension allows)."""
# The authorizer's verdicts are not cached (ReauthorizeEvery: 0, checked by a template test); a
# cache would keep one based on an older JWKS for this long.
AUTHORIZER_CACHE_SECONDS = 0
# For the JWKS write to reach every reader, and clocks.
PUBLISH_MARGIN_SECONDS = 5
# Signers keep the key set only briefly: after a rotation (a compromised key dropped at once
# above all) they must stop signing with the old key soon, and `userflow keys rotate` waits this
# long before it reports that none does. One GetSecretValue per half minute per warm container.
SIGNER_CACHE_SECONDS = 30
# A token naming an unknown kid may mean the JWKS was rotated since it was cached: refetch, but
# at most this often, so random kids cannot turn into a flood of SSM calls.
FORCED_REFRESH_INTERVAL_SECONDS = 30
# Retired keys stay published while tokens they signed can still be alive: a signer may keep the
# old key for SIGNER_CACHE_SECONDS after a rotation, and its last token then lives
# MAX_ACCESS_TTL_SECONDS; verifiers may hold the old JWKS for CACHE_SECONDS.
DEFAULT_RETAIN_RETIRED = timedelta(seconds=CACHE_SECONDS + MAX_ACCESS_TTL_SECONDS + 300)
# Secrets Manager staging labels: the version that signs, and one being rotated in.
CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"


class SigningKeySource:
    """The current signing key, from the secret, as a ready ``TokenIssuer`` (login and refresh)."""

    def __init__(self, secret_id: str, settings: TokenSettings) -> None:
        self._secret_id = secret_id
        self._settings = settings
        self._parsed: tuple[str, TokenIssuer] | None = None

    def current_issuer(self) -> TokenIssuer:
        """The extension (where configured, its ``SECRETS_MANAGER_TTL`` at most
        ``SIGNER_CACHE_SECONDS``: template.yaml) serves the ``AWSCURRENT`` version too."""
        text = through_extension(read_secret, self._secret_id)
        if text is None:
            from aws_lambda_powertools.utilities.parameters import get_secret

            text = str(
                get_secret(self._secret_id, max_age=SIGNER_CACHE_SECONDS, VersionStage=CURRENT)
            )
        if self._parsed is None or self._parsed[0] != text:
            key_set = SigningKeySet.parse(text)
            if key_set is None:
                raise SigningKeyMissing("No signing key yet: run `userflow keys ensure`")
            self._parsed = (text, TokenIssuer(key_set.current, self._settings))
        return self._parsed[1]


NO_KEYS = '{"keys": []}'


def jwks_parameter_name(stack_name: str) -> str:
    """The SSM parameter of a stack's public JWKS (template.yaml, JWKS_PARAMETER_NAME): not a
    stack resource, so that no CloudFormation update can rewrite it."""
    return f"/{stack_name}/auth/jwks"


def _parameter_not_found(error: BaseException | None) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return bool(code == "ParameterNotFound")


class PublicKeySource:
    """Verifies access tokens with the published JWKS (the authorizer)."""

    def __init__(
        self,
        parameter_name: str,
        issuer: str,
        audience: str,
        monotonic: Callable[[], float] = time.monotonic,
        max_lifetime_seconds: int = MAX_ACCESS_TTL_SECONDS,
        *,
        cache_seconds: int = CACHE_SECONDS,
    ) -> None:
        self._name = parameter_name
        self._cache_seconds = cache_seconds
        self._max_lifetime = max_lifetime_seconds
        self._issuer = issuer
        self._audience = audience
        self._monotonic = monotonic
        self._parsed: tuple[str, TokenVerifier] | None = None
        self._last_forced = -float("inf")
        # The set read from SSM for an unknown kid: the extension may serve the older one for up
        # to its cache TTL, so this one verifies meanwhile (and only meanwhile: a key dropped
        # since must not outlive that window).
        self._fresher: tuple[float, TokenVerifier] | None = None

    @property
    def cache_seconds(self) -> int:
        """How long this JWKS may be cached (by the extension, Powertools and HTTP clients)."""
        return self._cache_seconds

    def jwks_text(self, force: bool = False) -> str:
        """Through the Parameters and Secrets extension where configured (no AWS SDK on the hot
        path). A forced read (an unknown kid) asks SSM itself: the extension may hold the old
        value for its TTL. Without the extension, the SDK with Powertools' cache."""
        if not force and (value := through_extension(read_parameter, self._name)) is not None:
            return value
        from aws_lambda_powertools.utilities.parameters import get_parameter
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            return str(get_parameter(self._name, max_age=self._cache_seconds, force_fetch=force))
        except GetParameterError as error:
            # The key rotation creates the parameter (template.yaml): before the first key
            # there is none, and no token can be valid.
            if _parameter_not_found(error.__context__):
                return NO_KEYS
            raise

    def verify(self, token: str) -> AccessClaims:
        try:
            return self._verifier().verify(token)
        except UnknownSigningKey:
            now = self._monotonic()
            if self._fresher is not None and now - self._fresher[0] < self._cache_seconds:
                try:
                    return self._fresher[1].verify(token)
                except UnknownSigningKey:
                    pass
            if now - self._last_forced < FORCED_REFRESH_INTERVAL_SECONDS:
                raise
            self._last_forced = now
            self._fresher = (now, self._parse(self.jwks_text(force=True)))
            return self._fresher[1].verify(token)

    def _verifier(self) -> TokenVerifier:
        text = self.jwks_text()
        if self._parsed is None or self._parsed[0] != text:
            self._parsed = (text, self._parse(text))
        return self._parsed[1]

    def _parse(self, text: str) -> TokenVerifier:
        return TokenVerifier(
            json.loads(text), self._issuer, self._audience, max_lifetime_seconds=self._max_lifetime
        )


# ---------------------------------------------------------------- operator side (CLI, local)
def read_key_set(
    secrets: SecretsManagerClient,
    secret_id: str,
    *,
    stage: str = CURRENT,
    version_id: str | None = None,
) -> SigningKeySet | None:
    """The key set of a version (the signing one by default), or None while it has no (valid)
    value yet."""
    version = {"VersionStage": stage} | ({"VersionId": version_id} if version_id else {})
    try:
        value = secrets.get_secret_value(SecretId=secret_id, **version)
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return SigningKeySet.parse(value.get("SecretString"))


def publish_jwks(ssm: SSMClient, parameter: str, jwks: dict[str, Any]) -> None:
    ssm.put_parameter(Name=parameter, Value=json.dumps(jwks), Type="String", Overwrite=True)


def publish_ahead(jwks_cache_seconds: int) -> timedelta:
    """How long a staged key is published before it may sign: every verifier that cached the
    JWKS before it was published has read it again by then."""
    return timedelta(seconds=jwks_cache_seconds + AUTHORIZER_CACHE_SECONDS + PUBLISH_MARGIN_SECONDS)


def first_key_set(now: datetime, ahead: timedelta) -> SigningKeySet:
    """A new stack's keys: the first signs at once (nothing was verified before it), its
    successor is staged so that the first scheduled rotation can activate it."""
    return new_key_set(now).with_staged(now, now + ahead)


def scheduled_key_set(
    current: SigningKeySet | None,
    now: datetime,
    ahead: timedelta,
    retain_retired: timedelta = DEFAULT_RETAIN_RETIRED,
) -> SigningKeySet:
    """What a scheduled rotation stores, both steps in order: the staged key signs if it has
    been published long enough (otherwise it waits for `userflow keys activate` or the next
    rotation), then a successor is staged if none is."""
    if current is None:
        return first_key_set(now, ahead)
    key_set = current
    staged = key_set.staged
    if staged is not None and (staged.signs_from is None or staged.signs_from <= now):
        key_set = key_set.activated(now, retain_retired)
    if key_set.staged is None:
        key_set = key_set.with_staged(now, now + ahead)
    return key_set


def store_key_set(
    secrets: SecretsManagerClient,
    ssm: SSMClient,
    *,
    secret_id: str,
    parameter: str,
    key_set: SigningKeySet,
) -> None:
    """Publishes the set's JWKS, *then* makes it the signing version (a direct put of a new
    ``AWSCURRENT``; Secrets Manager moves ``AWSPREVIOUS`` to the one it replaces). An automatic
    rotation in flight is abandoned: its pending set was derived from the replaced keys."""
    publish_jwks(ssm, parameter, key_set.public_jwks())
    secrets.put_secret_value(SecretId=secret_id, SecretString=key_set.model_dump_json())
    _abandon_pending_rotation(secrets, secret_id)


def _abandon_pending_rotation(secrets: SecretsManagerClient, secret_id: str) -> None:
    """Removes ``AWSPENDING`` from versions that are not current: the rotation function then
    refuses that rotation's remaining steps, and the next scheduled rotation starts afresh."""
    versions = secrets.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    for version, stages in versions.items():
        if PENDING in stages and CURRENT not in stages:
            secrets.update_secret_version_stage(
                SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=version
            )


def ensure_signing_key(
    secrets: SecretsManagerClient,
    ssm: SSMClient,
    *,
    secret_id: str,
    parameter: str,
    now: datetime,
    ahead: timedelta,
) -> SigningKeySet:
    """A key set exists and its JWKS is published (a fresh stack gets its first key)."""
    current = read_key_set(secrets, secret_id)
    if current is None:
        current = first_key_set(now, ahead)
        store_key_set(secrets, ssm, secret_id=secret_id, parameter=parameter, key_set=current)
        return current
    publish_jwks(ssm, parameter, current.public_jwks())
    return current
