"""The committed Postman collection: what scripts/generate_postman.py makes of the OpenAPI."""

from __future__ import annotations

import json

from scripts.generate_postman import OPENAPI, SCHEMA, render


def test_given_the_openapi_document_then_the_committed_collection_is_up_to_date() -> None:
    for path, text in render().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make postman`"


def test_given_the_collection_then_each_operation_has_a_request_after_the_walkthrough() -> None:
    collection = json.loads(next(iter(render().values())))
    operations = json.loads(OPENAPI.read_text())["paths"]
    names = {request["name"] for folder in collection["item"][1:] for request in folder["item"]}

    assert collection["info"]["schema"] == SCHEMA
    assert collection["item"][0]["name"] == "Walk-through"
    assert names == {op["operationId"] for ops in operations.values() for op in ops.values()}


def test_given_the_walkthrough_then_it_shows_a_412_for_a_stale_if_match() -> None:
    collection = json.loads(next(iter(render().values())))
    steps = [step for folder in collection["item"][0]["item"] for step in folder["item"]]
    stale = next(step for step in steps if "stale" in step["name"])

    script = [line.strip() for line in stale["event"][-1]["script"]["exec"]]
    assert "pm.response.to.have.status(412);" in script
