"""Cold starts stay lean: what a function's first request loads (a fresh interpreter each).

Timings are for `make bench`; this only keeps heavy modules out of the paths that do not need
them: Powertools' event handler package (every resolver and its OpenAPI machinery; the API
functions have their own router) everywhere, boto3 (clients are botocore's) outside registration
(Powertools idempotency needs it), the X-Ray SDK when tracing is off, the AWS SDK in the
authorizer, Powertools idempotency outside registration, py_webauthn until a ceremony.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samlocal.template import load_template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(REPO / "template.yaml")
WATCHED = (
    "boto3",
    "botocore.session",
    "aws_xray_sdk",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.idempotency",
    "webauthn",  # py_webauthn: only on a passkey function's first ceremony (~100 ms)
)
HANDLERS = {
    logical_id: str(TEMPLATE.function_properties(logical_id)["Handler"])
    for logical_id in TEMPLATE.of_type("AWS::Serverless::Function")
}


def sample_of(logical_id: str) -> str:
    return HANDLERS[logical_id].rpartition(".")[0].removeprefix("handlers.handle_")


def refusable(logical_id: str) -> bool:
    """An API function whose sample request carries a body or needs a caller."""
    properties = TEMPLATE.function_properties(logical_id)
    if not any(e.get("Type") == "HttpApi" for e in properties.get("Events", {}).values()):
        return False
    sample = json.loads((REPO / "events" / f"{sample_of(logical_id)}.json").read_text())
    return "body" in sample or "authorizer" in sample["requestContext"]


API_FUNCTIONS = sorted(logical_id for logical_id in HANDLERS if refusable(logical_id))


def refused_route(logical_id: str) -> tuple[str, str]:
    """A POST route of the function if it has one (a body that is not JSON is refused before
    the function builds its services, which read settings this test does not give), else its
    sample's."""
    routes = [
        (str(e["Properties"]["Method"]).upper(), str(e["Properties"]["Path"]))
        for e in TEMPLATE.function_properties(logical_id)["Events"].values()
        if e.get("Type") == "HttpApi"
    ]
    posts = sorted(r for r in routes if r[0] == "POST")
    if posts:
        method, path = posts[0]
        return method, path.replace("{id}", "me")
    sample = json.loads((REPO / "events" / f"{sample_of(logical_id)}.json").read_text())
    return sample["requestContext"]["http"]["method"], sample["rawPath"]


# A request every such function refuses before any AWS call: one of its routes, with a body that
# is not JSON (400) or no caller (401): the router, its validation and its error answers all run.
REFUSED = """
import json
from pathlib import Path
event = json.loads(Path("events/{sample}.json").read_text())
event["body"] = "{{"
event["rawPath"] = event["requestContext"]["http"]["path"] = "{path}"
event["requestContext"]["http"]["method"] = "{method}"
event["requestContext"].pop("authorizer", None)
class Context:
    function_name = "f"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
assert handler(event, Context())["statusCode"] in (400, 401)
"""


def loaded_after(script: str) -> set[str]:
    env = {
        **os.environ,
        "TABLE_NAME": "t",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "f",
        "POWERTOOLS_METRICS_NAMESPACE": "Userflow",
    }
    script += "\nprint(__import__('json').dumps(sorted(__import__('sys').modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1])) & set(WATCHED)


def import_of(logical_id: str) -> str:
    module, _, attribute = HANDLERS[logical_id].rpartition(".")
    return f"from {module} import {attribute} as handler"


def test_given_the_authorizer_when_imported_then_no_aws_sdk_xray_or_resolver() -> None:
    assert loaded_after(import_of("AuthorizerFunction")) == set()


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_given_an_api_function_when_it_refuses_a_request_then_no_powertools_resolver_is_loaded(
    logical_id: str,
) -> None:
    method, path = refused_route(logical_id)
    refused = REFUSED.format(sample=sample_of(logical_id), method=method, path=path)
    loaded = loaded_after(import_of(logical_id) + refused)

    assert "aws_lambda_powertools.event_handler" not in loaded
    assert "aws_xray_sdk" not in loaded
    assert "webauthn" not in loaded
    if logical_id != "CreateUserFunction":
        assert "boto3" not in loaded


@pytest.mark.parametrize("logical_id", sorted(set(HANDLERS) - set(API_FUNCTIONS)))
def test_given_tracing_off_when_a_function_is_imported_then_neither_xray_nor_resolver(
    logical_id: str,
) -> None:
    loaded = loaded_after(import_of(logical_id))

    assert not loaded & {"aws_xray_sdk", "aws_lambda_powertools.event_handler"}


def test_given_registration_when_imported_then_idempotency_is_loaded_and_elsewhere_not() -> None:
    assert "aws_lambda_powertools.utilities.idempotency" in loaded_after(
        import_of("CreateUserFunction")
    )
    assert "aws_lambda_powertools.utilities.idempotency" not in loaded_after(
        import_of("LoginFunction")
    )
