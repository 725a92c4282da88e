import subprocess
import sys

from scripts.generate_openapi import OUTPUT


def _render_in_a_fresh_interpreter() -> str:
    """Generating imports every handler with placeholder settings; in this process that would pin
    module state (e.g. registration's idempotency table) for the tests that run after it."""
    probe = "from scripts.generate_openapi import render; print(render(), end='')"
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=OUTPUT.parents[1],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_given_the_handlers_when_openapi_is_generated_then_the_committed_document_matches() -> None:
    rendered = _render_in_a_fresh_interpreter()
    assert OUTPUT.read_text() == rendered, "docs/openapi.json is stale: run `make openapi`"


def test_given_the_document_then_every_user_route_of_the_contract_is_described() -> None:
    import json

    paths = json.loads(OUTPUT.read_text())["paths"]

    assert set(paths["/users"]) == {"get", "post"}
    assert set(paths["/users/{user_id}"]) >= {"get", "patch", "delete"}
