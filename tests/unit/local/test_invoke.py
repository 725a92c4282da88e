"""Functions run in-process with their own environment and a Lambda-like context."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from samlocal.functions import FunctionError, Invoker
from samlocal.template import load_template
from userflow.stack import Stack

HANDLER = """
import os

def handler(event, context):
    if event.get("fail"):
        raise ValueError("secret detail")
    return {
        "table": os.environ["TABLE_NAME"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "cost": os.environ.get("USERFLOW_ARGON2_MEMORY_LOG2_KIB"),
        "trace": os.environ["POWERTOOLS_TRACE_DISABLED"],
        "name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
    }
"""


@pytest.fixture
def invoker(tmp_path: Path) -> Invoker:
    module = f"probe_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(
        "Globals:\n  Function:\n    Timeout: 7\n    Environment:\n"
        "      Variables: {TABLE_NAME: !Ref Table}\n"
        "Resources:\n  Table: {Type: AWS::DynamoDB::Table}\n"
        f"  Fn:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{Handler: {module}.handler, MemorySize: 256}}\n"
    )
    stack = Stack(
        name="userflow-local",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:1",
        resources={
            "Table": {"physical_id": "t", "type": "AWS::DynamoDB::Table", "arn": "arn:t"},
            "Fn": {"physical_id": "fn", "type": "AWS::Serverless::Function", "arn": "arn:fn"},
        },
    )
    return Invoker(load_template(tmp_path / "template.yaml"), stack)


def test_given_a_function_when_invoking_then_it_sees_its_environment_and_context(
    invoker: Invoker,
) -> None:
    result = invoker.invoke("Fn", {})

    assert result["table"] == "t"
    assert result["endpoint"] == "http://127.0.0.1:1"
    assert result["cost"] == os.environ.get("USERFLOW_ARGON2_MEMORY_LOG2_KIB")
    assert result["trace"] == "true"
    assert (result["name"], result["memory"], result["arn"]) == ("fn", 256, "arn:fn")
    assert 6000 < result["remaining"] <= 7000


def test_given_an_invocation_when_it_returns_then_the_process_environment_is_restored(
    invoker: Invoker,
) -> None:
    before = dict(os.environ)

    invoker.invoke("Fn", {})

    assert dict(os.environ) == before


def test_given_a_raising_function_when_invoking_then_function_error(invoker: Invoker) -> None:
    with pytest.raises(FunctionError) as raised:
        invoker.invoke("Fn", {"fail": True})

    assert "secret detail" not in str(raised.value)
