"""Schemathesis against `userflow local`, driven by docs/openapi.json: no 5xx, and every response
(status, content type, body) as documented, for schema-valid and schema-invalid requests alike.

Bounded and reproducible: a fixed seed, a fixed number of examples per operation, one worker, no
example database. API Gateway answers 404 to an undeclared method, so that check is left out.
Per-operation allowances for rules a schema cannot state are in tests/e2e/api/schemathesis.toml.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.local_stack import REPO, LocalStack, start_local_stack

pytestmark = pytest.mark.e2e

SEED = 8
EXAMPLES_PER_OPERATION = 10
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,positive_data_acceptance,negative_data_rejection"
)
SETTINGS = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "a fuzzing passphrase of my own"


def _access_token(stack: LocalStack, email: str, *, admin: bool) -> str:
    registered = stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "Fuzz"}
    )
    assert registered.status == 201, registered.body
    if admin:
        # A fuzzing account, never verified: forced (an operator would verify it first).
        granted = stack.run("userflow.cli", "admin", "grant", email, "--force")
        assert granted.returncode == 0, granted.stderr
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    token: str = login.json()["access_token"]
    return token


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[LocalStack]:
    """Its own stack: hundreds of registrations would delay the shared stack's event pipeline."""
    (tmp_path / "stack").mkdir()
    with start_local_stack(tmp_path / "stack") as stack:
        yield stack


def test_given_the_openapi_document_when_fuzzed_then_every_response_is_as_documented(
    own_stack: LocalStack, unique_email: Callable[[], str], tmp_path: Path
) -> None:
    local_stack = own_stack
    admin = _access_token(local_stack, unique_email(), admin=True)
    # Signing out everywhere would end the admin's token for the operations tested after it.
    bystander = _access_token(local_stack, unique_email(), admin=False)
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(
        SETTINGS.read_text()
        + '\n[[operations]]\ninclude-name = "POST /auth/logout"\n'
        + f"headers = {{ Authorization = {json.dumps('Bearer ' + bystander)} }}\n"
        # Its body needs `refresh_token` or `"all": true`: a rule in words (the document keeps
        # the object plain for generators), so an empty object may be refused with 422.
        + 'checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "422"]\n'
    )

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(settings),
            "run",
            str(REPO / "docs" / "openapi.json"),
            "--url",
            local_stack.api_url,
            "--header",
            f"Authorization: Bearer {admin}",
            "--checks",
            CHECKS,
            "--exclude-checks",
            "unsupported_method",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
