"""Cold starts are counted per function (Powertools' `ColdStart` metric), which the operations
dashboard plots: the authorizer (before every protected request), the API functions and the
stream processor each emit it on their first invocation only."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from tests.support.api_clients import ApiClient

pytestmark = pytest.mark.usefixtures("stack")


def _cold_starts(printed: str) -> list[str]:
    """Function names of the ColdStart metrics in the embedded-metric-format lines printed."""
    names = []
    for line in printed.splitlines():
        if '"ColdStart"' in line:
            blob = json.loads(line)
            names.append(blob["function_name"])
    return names


@pytest.fixture
def new_container(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Userflow")
    cold_start.reset_cold_start_flag()  # type: ignore[no-untyped-call]
    capsys.readouterr()


@pytest.mark.usefixtures("new_container")
def test_given_a_new_authorizer_container_when_invoked_twice_then_one_cold_start_is_counted(
    api: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"headers": {}, "requestContext": {"requestId": "r1"}}

    api.invoke("AuthorizerFunction", event)
    api.invoke("AuthorizerFunction", event)

    name = api.invoker.function("AuthorizerFunction").name
    assert _cold_starts(capsys.readouterr().out) == [name]


@pytest.mark.usefixtures("new_container")
def test_given_a_new_api_container_when_called_twice_then_one_cold_start_is_counted(
    api: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert api.request("GET", "/.well-known/jwks.json").status == 200
    assert api.request("GET", "/.well-known/jwks.json").status == 200

    name = api.invoker.function("JwksFunction").name
    assert _cold_starts(capsys.readouterr().out) == [name]
