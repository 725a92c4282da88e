"""`userflow local` serves the API reference at /docs from the vendored Swagger UI: everything the
page loads comes from the stack itself (no network), and its "Try it out" targets that stack."""

from __future__ import annotations

import hashlib
import re

from tests.support.local_stack import REPO, LocalStack

ASSETS = REPO / "docs" / "assets" / "swagger-ui"


def test_given_a_local_stack_when_docs_is_opened_then_the_page_loads_only_local_assets(
    local_stack: LocalStack,
) -> None:
    page = local_stack.request("GET", "/docs")

    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must work offline"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in re.findall(r"(?:src|href)=\"(/docs/[^\"]+)\"", html):
        assert local_stack.request("GET", asset).status == 200, asset


def test_given_the_vendored_swagger_ui_then_what_is_served_is_the_pinned_release(
    local_stack: LocalStack,
) -> None:
    lines = (ASSETS / "SHA256SUMS").read_text().splitlines()
    pinned = {name: digest for digest, name in (line.split() for line in lines)}
    for name, digest in pinned.items():
        served = local_stack.request("GET", f"/docs/{name}")

        assert served.status == 200
        assert hashlib.sha256(served.body).hexdigest() == digest, name


def test_given_the_reference_page_then_its_document_calls_this_stack(
    local_stack: LocalStack,
) -> None:
    document = local_stack.request("GET", "/docs/openapi.json").json()

    assert document["servers"] == [
        {"url": local_stack.api_url, "description": "This `userflow local`"}
    ]
    assert "/users/me" in document["paths"]
    # What "Try it out" on GET /.well-known/jwks.json sends, from the page's own origin.
    assert local_stack.request("GET", "/.well-known/jwks.json").status == 200


def test_given_an_unknown_docs_path_then_404_as_any_unknown_route(local_stack: LocalStack) -> None:
    answer = local_stack.request("GET", "/docs/../../etc/passwd")

    assert answer.status == 404
    assert answer.json() == {"message": "Not Found"}
