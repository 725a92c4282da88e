"""`userflow local --parameter-overrides`: read as `sam deploy` reads them, checked as
CloudFormation checks them, and reaching the functions' environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from samlocal.provision import (
    ParameterError,
    checked_overrides,
    function_environment,
    parse_overrides,
)
from samlocal.template import load_template
from userflow.local_stack import FIXED, provision_local_stack

REPO_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def test_given_both_of_sams_forms_then_each_is_read_and_the_later_wins() -> None:
    parsed = parse_overrides(
        [
            "SessionLifetimeSeconds=60",
            "ParameterKey=FrontendUrl,ParameterValue=http://localhost:5173/a=b",
            "AllowedOrigins=",
            "SessionLifetimeSeconds=120",
        ]
    )

    assert parsed == {
        "SessionLifetimeSeconds": "120",
        "FrontendUrl": "http://localhost:5173/a=b",
        "AllowedOrigins": "",
    }


@pytest.mark.parametrize("item", ["NoEquals", "=1", " =1"])
def test_given_an_item_without_a_name_then_refused(item: str) -> None:
    with pytest.raises(ParameterError):
        parse_overrides([item])


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"NoSuchParameter": "1"}, "declares no such parameter"),
        ({"Stage": "prod"}, "always `local`"),
        ({"SessionLifetimeSeconds": "59"}, "at least 60"),
        ({"SessionLifetimeSeconds": "31536001"}, "at most 31536000"),
        ({"SessionLifetimeSeconds": "a minute"}, "must be a number"),
        ({"SessionLifetimeSeconds": "NaN"}, "must be a number"),
        ({"SessionLifetimeSeconds": ""}, "must be a number"),
        ({"LoginFailuresBeforeReset": "101"}, "at most 100"),
        ({"DetailedTracing": "yes"}, "must be one of true, false"),
        ({"FrontendUrl": "javascript:alert(1)"}, "must match"),
        ({"SenderEmail": "no at sign"}, "must match"),
    ],
)
def test_given_a_value_the_template_would_refuse_then_refused_naming_why(
    override: dict[str, str], problem: str
) -> None:
    with pytest.raises(ParameterError, match=problem):
        checked_overrides(load_template(REPO_TEMPLATE), override, FIXED)


def test_given_values_within_their_bounds_then_accepted() -> None:
    overrides = {"SessionLifetimeSeconds": "60", "ReauthenticationWindowSeconds": "0"}

    assert checked_overrides(load_template(REPO_TEMPLATE), overrides) == overrides


def test_given_overrides_when_provisioned_then_the_functions_get_them_and_others_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = load_template(REPO_TEMPLATE)
    with mock_aws():
        stack = provision_local_stack(
            REPO_TEMPLATE, parameters={"SessionLifetimeSeconds": "60", "LoginFreeFailures": "2"}
        )
        login = function_environment(template, "LoginFunction", stack)
        refresh = function_environment(template, "RefreshTokenFunction", stack)

    assert (login["SESSION_LIFETIME_SECONDS"], refresh["SESSION_LIFETIME_SECONDS"]) == ("60", "60")
    assert login["LOGIN_FREE_FAILURES"] == "2"
    assert login["SESSION_IDLE_TIMEOUT_SECONDS"] == "604800"  # not overridden: the default
    assert login["ISSUER"] == "urn:userflow:local"  # Stage stays local
