"""Secrets Manager rotation function of the access-token signing keys (every 30 days).

Secrets Manager invokes it for each rotation step of ``SigningKeySecret``; the steps are in
``adapters/key_rotation.py``. Only version ids and step names are logged, never key material.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters import aws_clients
from adapters.key_rotation import SigningKeyRotation
from handlers.cold_start import started
from handlers.observability import logger
from handlers.settings import KeyRotationSettings, load


@started
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    step, version = event["Step"], event["ClientRequestToken"]
    logger.info("Rotation step", extra={"step": step, "version_id": version})
    rotation = SigningKeyRotation(
        aws_clients.client("secretsmanager"),
        aws_clients.deferred_client("ssm"),  # a late retry of a step never publishes
        load(KeyRotationSettings).jwks_parameter_name,
    )
    rotation.run(event["SecretId"], version, step)
    logger.info("Rotation step done", extra={"step": step, "version_id": version})
