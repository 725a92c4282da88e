"""`userflow keys rotate` then `activate` on a running `userflow local`: at every moment, every
token the stack signs verifies against the JWKS the stack serves at that moment (the JWKS route
caches as verifiers do). The stack runs the repository's template with its JWKS cache shortened to
2 s (and login's key cache to 1 s), so that the publish-ahead wait takes seconds, not minutes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.support.local_stack import REPO, LocalStack, start_local_stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
JWKS_CACHE_SECONDS = 2


def _short_cache_template(directory: Path) -> Path:
    """template.yaml with JwksCacheSeconds' default at 2 s and signers caching 1 s, next to
    the code it runs (linked, not copied)."""
    source = directory / "source"
    source.mkdir()
    for package in ("adapters", "domain", "handlers"):
        (source / package).symlink_to(REPO / package)
    text = (REPO / "template.yaml").read_text()
    cache_default = "    MaxValue: 300\n"
    assert "  JwksCacheSeconds:\n    Type: Number\n    Default: 300\n" in text
    text = text.replace(
        "  JwksCacheSeconds:\n    Type: Number\n    Default: 300\n",
        f"  JwksCacheSeconds:\n    Type: Number\n    Default: {JWKS_CACHE_SECONDS}\n",
    )
    assert cache_default in text
    assert 'SECRETS_MANAGER_TTL: "30"' in text
    text = text.replace('SECRETS_MANAGER_TTL: "30"', 'SECRETS_MANAGER_TTL: "1"')
    template = source / "template.yaml"
    template.write_text(text)
    return template


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    directory = tmp_path_factory.mktemp("keys")
    template = _short_cache_template(directory)
    with start_local_stack(directory, "--template", str(template)) as local:
        yield local


def _token(stack: LocalStack, email: str) -> str:
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return str(login.json()["access_token"])


def _verifies_against_served_jwks(stack: LocalStack, token: str) -> None:
    """As an outside verifier does it: the JWKS the stack serves now, and the token's kid."""
    served = stack.request("GET", "/.well-known/jwks.json")
    assert served.status == 200
    assert served.headers["Cache-Control"] == f"public, max-age={JWKS_CACHE_SECONDS}"
    keys = {jwk["kid"]: jwk for jwk in served.json()["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid in keys, f"token signed with {kid}, not in the served JWKS {sorted(keys)}"
    jwt.decode(token, jwt.PyJWK(keys[kid]).key, algorithms=["ES256"], options={"verify_aud": False})


def test_given_keys_rotate_then_activate_when_tokens_are_signed_then_the_served_jwks_verifies_each(
    stack: LocalStack,
) -> None:
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    created = stack.request(
        "POST", "/users", json_body={"email": email, "password": PASSWORD, "name": "Keys"}
    )
    assert created.status == 201
    old_kid = jwt.get_unverified_header(_token(stack, email))["kid"]

    rotated = stack.run("userflow.cli", "keys", "rotate", "--json")
    assert rotated.returncode == 0, rotated.stderr
    staged = json.loads(rotated.stdout)
    too_early = stack.run("userflow.cli", "keys", "activate")
    activated = None
    signed_with: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and staged["staged"] not in signed_with[-1:]:
        token = _token(stack, email)
        _verifies_against_served_jwks(stack, token)  # at every moment, before and after
        signed_with.append(jwt.get_unverified_header(token)["kid"])
        if activated is None:
            attempt = stack.run("userflow.cli", "keys", "activate", "--json")
            activated = attempt if attempt.returncode == 0 else None
        time.sleep(0.3)

    assert too_early.returncode == 1
    assert f"not yet: {staged['staged']} may sign from" in too_early.stderr
    assert activated is not None
    assert json.loads(activated.stdout)["signing"] == staged["staged"]
    assert signed_with[0] == old_kid
    assert signed_with[-1] == staged["staged"]
    assert set(signed_with) == {old_kid, staged["staged"]}
