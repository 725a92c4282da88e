"""The guide "Verify tokens in your own services" (docs/examples), run as written against
`userflow local`: discovery, then PyJWT's PyJWKClient and Node's jose verify a real token."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import jwt
import pytest

from tests.support.local_stack import REPO, LocalStack

EXAMPLES = REPO / "docs" / "examples"
NODE = REPO / ".venv-tools" / "bin" / "node"
PASSWORD = "correct horse battery staple"


def _access_token(stack: LocalStack, email: str) -> str:
    body = {"email": email, "password": PASSWORD, "name": "Verifier"}
    assert stack.request("POST", "/users", json_body=body).status == 201
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    return str(login.json()["access_token"])


def _verify(command: list[str], stack: LocalStack, token: str) -> subprocess.CompletedProcess[str]:
    audience = jwt.decode(token, options={"verify_signature": False})["aud"]
    discovery = f"{stack.api_url}/.well-known/openid-configuration"
    return subprocess.run(
        [*command, discovery, audience, token],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


VERIFIERS = {
    "python": [sys.executable, str(EXAMPLES / "verify_token.py")],
    "node": [str(NODE), str(EXAMPLES / "verify-token.mjs")],
}


def test_given_the_stack_when_discovery_is_read_then_it_names_the_issuer_and_the_jwks(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    token = _access_token(local_stack, unique_email())

    answer = local_stack.request("GET", "/.well-known/openid-configuration")

    assert answer.status == 200
    config = answer.json()
    assert config["issuer"] == jwt.decode(token, options={"verify_signature": False})["iss"]
    assert config["jwks_uri"] == f"{local_stack.api_url}/.well-known/jwks.json"
    assert config["id_token_signing_alg_values_supported"] == ["ES256"]
    assert answer.headers["Cache-Control"].startswith("public, max-age=")


@pytest.mark.parametrize("language", sorted(VERIFIERS))
def test_given_a_login_when_the_guide_example_verifies_the_token_then_it_gets_the_claims(
    local_stack: LocalStack, unique_email: Callable[[], str], language: str
) -> None:
    if language == "node" and not NODE.exists():
        pytest.fail("make serverless-tools installs Node (.venv-tools) and jose (node_modules)")
    token = _access_token(local_stack, unique_email())

    done = _verify(VERIFIERS[language], local_stack, token)

    assert done.returncode == 0, done.stdout + done.stderr
    claims = json.loads(done.stdout)
    assert claims["sub"] == jwt.decode(token, options={"verify_signature": False})["sub"]


def test_given_a_revoked_session_then_a_signature_check_alone_still_accepts_its_token(
    local_stack: LocalStack, unique_email: Callable[[], str]
) -> None:
    """What the guide warns about: revocation is the API's check, not the token's; elsewhere a
    revoked token passes until it expires (AccessTokenTtlSeconds)."""
    token = _access_token(local_stack, unique_email())
    bearer = {"Authorization": f"Bearer {token}"}
    logout = local_stack.request("POST", "/auth/logout", json_body={"all": True}, headers=bearer)
    assert logout.status == 204

    refused = local_stack.request("GET", "/users/me", headers=bearer)
    elsewhere = _verify(VERIFIERS["python"], local_stack, token)

    assert refused.status == 401
    assert elsewhere.returncode == 0, elsewhere.stderr
