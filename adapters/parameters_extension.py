"""Reads SSM parameters and secrets through AWS's Parameters and Secrets Lambda Extension, not
the AWS SDK.

The extension (an AWS-managed layer) serves ``GET /systemsmanager/parameters/get?name=...`` and
``GET /secretsmanager/get?secretId=...`` on ``localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT``
(2773 by default), authenticated by the function's ``AWS_SESSION_TOKEN`` in the
``X-Aws-Parameters-Secrets-Token`` header, and caches values (``SSM_PARAMETER_STORE_TTL`` and
``SECRETS_MANAGER_TTL``, 300 s by default). A function that only reads a parameter then never
loads boto3, and one that also calls DynamoDB creates no Secrets Manager client
(docs/performance.md). It is used where the template sets the port variable; ``userflow local``
serves the same interface (``samlocal/functions/parameters_extension.py``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name
TIMEOUT_SECONDS = 2.0


class ExtensionUnavailable(Exception):
    """The extension did not answer with the value (not attached, not ready, or refused)."""


def extension_port() -> int | None:
    """The extension's port when this function is configured to use it and can.

    Not on SnapStart: a restored environment gets its credentials from the container endpoint,
    not as ``AWS_SESSION_TOKEN``, and the extension authenticates callers with that token alone,
    so every read would be refused and fall back to the SDK after a warning. The SDK reads
    directly there, with no warning per invocation.
    """
    configured = os.environ.get(PORT_ENV)
    if not configured or not os.environ.get("AWS_SESSION_TOKEN"):
        return None
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        return None
    return int(configured)


def read_parameter(name: str, port: int) -> str:
    """The parameter's current value, as the extension has it cached."""
    answer = _get(f"/systemsmanager/parameters/get?name={quote(name, safe='')}", port)
    try:
        return str(answer["Parameter"]["Value"])
    except (KeyError, TypeError) as error:
        raise ExtensionUnavailable("unexpected answer") from error


def read_secret(secret_id: str, port: int) -> str:
    """The secret's ``AWSCURRENT`` string, as the extension has it cached."""
    answer = _get(f"/secretsmanager/get?secretId={quote(secret_id, safe='')}", port)
    try:
        return str(answer["SecretString"])
    except (KeyError, TypeError) as error:
        raise ExtensionUnavailable("unexpected answer") from error


def through_extension(read: Callable[[str, int], str], name: str) -> str | None:
    """``read`` (``read_parameter`` or ``read_secret``) where the function has the extension;
    None without it or when it does not answer (logged), so the caller uses the SDK instead."""
    port = extension_port()
    if port is None:
        return None
    try:
        return read(name, port)
    except ExtensionUnavailable as error:
        # Powertools' Logger logs through the standard logger of its service name.
        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service")).warning(
            "Parameters extension unavailable: %s", error
        )
        return None


def _get(path: str, port: int) -> dict[str, Any]:
    import http.client

    connection = http.client.HTTPConnection("localhost", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(
            "GET", path, headers={TOKEN_HEADER: os.environ.get("AWS_SESSION_TOKEN", "")}
        )
        response = connection.getresponse()
        body = response.read()
    except OSError as error:
        raise ExtensionUnavailable(str(error)) from error
    finally:
        connection.close()
    if response.status != 200:
        raise ExtensionUnavailable(f"HTTP {response.status}")
    try:
        answer = json.loads(body)
    except ValueError as error:
        raise ExtensionUnavailable("unexpected answer") from error
    if not isinstance(answer, dict):
        raise ExtensionUnavailable("unexpected answer")
    return answer
