"""Secrets Manager rotation function of the access-token signing keys (every 30 days).

Secrets Manager invokes it for each rotation step of ``SigningKeySecret``; the steps are in
``adapters/key_rotation.py``: each rotation activates the key staged by the previous one and
stages the next, published ``JWKS_CACHE_SECONDS`` (and a margin) at least before it signs. Only
version ids and step names are logged, never key material.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import aws_clients
from adapters.key_rotation import SigningKeyRotation
from adapters.key_store import publish_ahead
from handlers.observability import logger
from handlers.settings import KeyRotationSettings, load


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    step, version = event["Step"], event["ClientRequestToken"]
    logger.info("Rotation step", extra={"step": step, "version_id": version})
    settings = load(KeyRotationSettings)
    rotation = SigningKeyRotation(
        aws_clients.client("secretsmanager"),
        aws_clients.client("ssm"),
        settings.jwks_parameter_name,
        publish_ahead(settings.jwks_cache_seconds),
    )
    rotation.run(event["SecretId"], version, step)
    logger.info("Rotation step done", extra={"step": step, "version_id": version})
