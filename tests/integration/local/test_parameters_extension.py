"""The Parameters and Secrets extension as `userflow local` serves it, and the functions that read
through it: the public keys (the authorizer, the JWKS endpoint) and the MAC keys (listing's
cursors, the recovery tokens)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.key_store import jwks_parameter_name
from adapters.parameters_extension import PORT_ENV, TOKEN_HEADER, read_secret, through_extension
from samlocal.functions.config import LOCAL_SESSION_TOKEN
from samlocal.functions.parameters_extension import (
    PARAMETER_PATH,
    SECRET_PATH,
    ParametersExtension,
    ttls_from_template,
)
from samlocal.template import load_template
from tests.support.api_clients import GatewayClient
from userflow.stack import Stack

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def extension(gateway: GatewayClient) -> Iterator[ParametersExtension]:
    server = ParametersExtension(
        gateway.stack.client,
        session_token=LOCAL_SESSION_TOKEN,
        ttl_seconds=ttls_from_template(load_template(REPO / "template.yaml")),
    )
    server.start()
    gateway.invoker.local_values = server.function_environment()
    yield server
    gateway.invoker.local_values = {}
    server.shutdown()
    server.server_close()


def _get(server: ParametersExtension, path: str, token: str | None = LOCAL_SESSION_TOKEN) -> Any:
    headers = {TOKEN_HEADER: token} if token is not None else {}
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _jwks_name(stack: Stack) -> str:
    return jwks_parameter_name(stack.name)


def test_given_the_session_token_when_a_parameter_is_read_then_getparameters_answer(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    status, body = _get(extension, f"{PARAMETER_PATH}?name={_jwks_name(gateway.stack)}")

    assert status == 200
    assert body["Parameter"]["Name"] == _jwks_name(gateway.stack)
    assert json.loads(body["Parameter"]["Value"])["keys"]


@pytest.mark.parametrize("token", [None, "", "another-session"])
def test_given_no_or_a_wrong_token_when_reading_then_401(
    gateway: GatewayClient, extension: ParametersExtension, token: str | None
) -> None:
    status, _ = _get(extension, f"{PARAMETER_PATH}?name={_jwks_name(gateway.stack)}", token)

    assert status == 401


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (PARAMETER_PATH, 400),
        (f"{PARAMETER_PATH}?name=a&name=b", 400),
        (f"{PARAMETER_PATH}?name=%2Fno%2Fsuch%2Fparameter", 400),
        ("/secretsmanager/get?secretId=no-such-secret", 400),
        ("/somewhere/else", 404),
    ],
)
def test_given_a_bad_request_when_reading_then_a_4xx(
    extension: ParametersExtension, path: str, status: int
) -> None:
    assert _get(extension, path)[0] == status


def test_given_a_cached_value_when_the_parameter_changes_then_it_is_served_until_the_ttl(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    path = f"{PARAMETER_PATH}?name={_jwks_name(gateway.stack)}"
    before = _get(extension, path)[1]["Parameter"]["Value"]
    gateway.stack.client("ssm").put_parameter(
        Name=_jwks_name(gateway.stack), Value='{"keys": []}', Type="String", Overwrite=True
    )
    uncached = ParametersExtension(
        gateway.stack.client, session_token=LOCAL_SESSION_TOKEN, ttl_seconds={PARAMETER_PATH: 0}
    )
    uncached.start()

    cached_value = _get(extension, path)[1]["Parameter"]["Value"]
    fresh_value = _get(uncached, path)[1]["Parameter"]["Value"]
    uncached.shutdown()
    uncached.server_close()
    gateway.stack.client("ssm").put_parameter(  # the module's stack is shared
        Name=_jwks_name(gateway.stack), Value=before, Type="String", Overwrite=True
    )

    assert cached_value == before
    assert fresh_value == '{"keys": []}'


def test_given_the_extension_when_a_signed_in_user_reads_their_record_then_the_authorizer_read_it(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    user = gateway.register()
    token = gateway.login(user)["access_token"]

    me = gateway.request("GET", "/users/me", token=token)
    jwks = gateway.request("GET", "/.well-known/jwks.json")

    assert me.status == 200
    assert jwks.status == 200
    assert extension.requests_served[PARAMETER_PATH] >= 2


def test_given_the_extension_when_a_secret_is_read_then_its_current_string(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    secret_id = gateway.stack.physical_id("CursorSigningSecret")
    expected = gateway.stack.client("secretsmanager").get_secret_value(SecretId=secret_id)

    assert read_secret(secret_id, extension.port) == expected["SecretString"]


def test_given_an_admin_paging_users_with_the_extension_then_the_cursor_key_came_through_it(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    admin = gateway.register(admin=True)
    gateway.register()
    token = gateway.login(admin)["access_token"]

    first = gateway.request("GET", "/users?limit=1", token=token)
    second = gateway.request(
        "GET", f"/users?limit=1&cursor={first.json['next_cursor']}", token=token
    )

    assert (first.status, second.status) == (200, 200)
    assert second.json["items"][0]["id"] != first.json["items"][0]["id"]
    assert extension.requests_served[SECRET_PATH] >= 1


def test_given_the_port_but_no_extension_when_reading_then_none_and_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The caller then reads through the SDK: a missing layer slows a cold start, nothing more."""
    monkeypatch.setenv(PORT_ENV, "1")  # nothing listens on port 1

    assert through_extension(read_secret, "any-secret") is None
    assert "Parameters extension unavailable" in caplog.text


def test_given_a_cold_authorizer_with_the_extension_when_it_authorizes_then_no_aws_sdk_is_loaded(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    """The point of the extension: the authorizer's cold start never imports boto3, X-Ray or the
    OpenAPI machinery, the first request included."""
    user = gateway.register()
    token = gateway.login(user)["access_token"]
    function = gateway.invoker.function("AuthorizerFunction")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **gateway.invoker.runtime_environment(function),
        "POWERTOOLS_TRACE_DISABLED": "false",
    }
    event = json.loads((REPO / "events" / "authorize.json").read_text())
    event["headers"]["authorization"] = f"Bearer {token}"
    script = (
        "import json, sys\n"
        "import handlers.handle_authorize as f\n"
        "class Context:\n"
        "    function_name = 'authorizer'; memory_limit_in_mb = 256\n"
        "    invoked_function_arn = 'arn'; aws_request_id = 'cold'\n"
        "result = f.handler(json.loads(sys.stdin.read()), Context())\n"
        "heavy = ('boto3', 'botocore.session', 'aws_xray_sdk',\n"
        "         'aws_lambda_powertools.event_handler')\n"
        "print(json.dumps({'authorized': result['isAuthorized'],\n"
        "    'loaded': sorted(m for m in heavy if m in sys.modules)}))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(event),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert json.loads(done.stdout.splitlines()[-1]) == {"authorized": True, "loaded": []}
    assert PORT_ENV in env


def test_given_the_template_when_the_local_extension_is_configured_then_the_shortest_ttls(
    gateway: GatewayClient,
) -> None:
    """One local server stands in for every function's extension: it keeps a secret no longer
    than the signers' extensions may (30 s), parameters as long as the default (300 s)."""
    ttls = ttls_from_template(load_template(REPO / "template.yaml"))

    assert ttls == {PARAMETER_PATH: 300.0, SECRET_PATH: 30.0}


def test_given_a_signer_with_the_extension_when_logging_in_then_the_key_set_came_through_it(
    gateway: GatewayClient, extension: ParametersExtension
) -> None:
    user = gateway.register()

    tokens = gateway.login(user)

    assert tokens["access_token"]
    assert extension.requests_served[SECRET_PATH] >= 1
