from scripts.generate_openapi import OUTPUT, render


def test_given_the_handlers_when_openapi_is_generated_then_the_committed_document_matches() -> None:
    assert OUTPUT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_given_the_document_then_every_user_route_of_the_contract_is_described() -> None:
    import json

    paths = json.loads(OUTPUT.read_text())["paths"]

    assert set(paths["/users"]) == {"get", "post"}
    assert set(paths["/users/{user_id}"]) >= {"get", "patch", "delete"}
