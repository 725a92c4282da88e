"""Cold starts stay lean: what importing each function's handler loads (a fresh interpreter each).

Timings are for `make bench`; this only keeps heavy modules out of the import paths that do not
need them: the X-Ray SDK when tracing is off, the OpenAPI document's models always, the AWS SDK
in the authorizer, Powertools idempotency outside registration, py_webauthn until a ceremony.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WATCHED = (
    "boto3",
    "botocore.session",
    "aws_xray_sdk",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.utilities.idempotency",
    "webauthn",  # py_webauthn: only on a passkey function's first ceremony (~100 ms)
)


def loaded_by_import(module: str) -> set[str]:
    env = {
        **os.environ,
        "TABLE_NAME": "t",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "f",
    }
    script = f"import sys, {module}; print(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1])) & set(WATCHED)


def test_given_the_authorizer_when_imported_then_no_aws_sdk_xray_or_resolver() -> None:
    assert loaded_by_import("handlers.handle_authorize") == set()


@pytest.mark.parametrize(
    "module",
    [
        "handlers.handle_get_user",
        "handlers.handle_login",
        "handlers.handle_jwks",
        "handlers.handle_list_users",
        "handlers.handle_update_user",
        "handlers.handle_passkeys",
        "handlers.handle_passkey_sign_in",
    ],
)
def test_given_an_api_function_when_imported_then_only_its_resolver_is_loaded(
    module: str,
) -> None:
    assert loaded_by_import(module) == {"aws_lambda_powertools.event_handler"}


@pytest.mark.parametrize(
    "module", ["handlers.handle_user_stream", "handlers.handle_mailer", "handlers.handle_logout"]
)
def test_given_tracing_off_when_a_function_is_imported_then_the_xray_sdk_is_not(
    module: str,
) -> None:
    assert "aws_xray_sdk" not in loaded_by_import(module)


def test_given_registration_when_imported_then_idempotency_but_no_xray_or_openapi_models() -> None:
    loaded = loaded_by_import("handlers.handle_create_user")

    assert "aws_lambda_powertools.utilities.idempotency" in loaded
    assert not loaded & {"aws_xray_sdk", "aws_lambda_powertools.event_handler.openapi.models"}
