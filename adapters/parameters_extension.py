"""Reads SSM parameters through AWS's Parameters and Secrets Lambda Extension, not the AWS SDK.

The extension (an AWS-managed layer) serves ``GET /systemsmanager/parameters/get?name=...`` on
``localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` (2773 by default), authenticated by the
function's ``AWS_SESSION_TOKEN`` in the ``X-Aws-Parameters-Secrets-Token`` header, and caches
values (``SSM_PARAMETER_STORE_TTL``, 300 s by default). A function that only reads a parameter
then never loads boto3: about a third of a cold start (README, "Performance"). It is used where
the template sets the port variable; ``userflow local`` serves the same interface
(``userflow/local/parameters_extension.py``).
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name
TIMEOUT_SECONDS = 2.0


class ExtensionUnavailable(Exception):
    """The extension did not answer with the value (not attached, not ready, or refused)."""


def extension_port() -> int | None:
    """The extension's port when this function is configured to use it."""
    configured = os.environ.get(PORT_ENV)
    return int(configured) if configured else None


def read_parameter(name: str, port: int) -> str:
    """The parameter's current value, as the extension has it cached."""
    import http.client

    connection = http.client.HTTPConnection("localhost", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(
            "GET",
            f"/systemsmanager/parameters/get?name={quote(name, safe='')}",
            headers={TOKEN_HEADER: os.environ.get("AWS_SESSION_TOKEN", "")},
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
        return str(json.loads(body)["Parameter"]["Value"])
    except (ValueError, KeyError, TypeError) as error:
        raise ExtensionUnavailable("unexpected answer") from error
