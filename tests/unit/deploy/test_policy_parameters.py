"""Every policy is a template parameter (issue 20): it reaches, as its environment variable,
exactly the functions that apply it, its default lies within its bounds, and docs/api/auth.md's
"Policies" table states the template's default and bounds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from handlers.settings import FUNCTION_SETTINGS, FunctionSettings
from userflow.template import userflow_template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = userflow_template(REPO / "template.yaml")

THROTTLE = {
    "LoginFunction",
    "CreateUserFunction",
    "UpdateUserFunction",
    "DeleteUserFunction",
    "MfaFunction",  # a wrong current_password, as below
    "MfaLoginFunction",  # a wrong second factor counts as a failed login
    "PasskeysFunction",  # a wrong current_password for registration options
}
SIGN_IN = {"LoginFunction", "MfaLoginFunction", "PasskeySignInFunction"}
"""Functions that start sessions, and whose routes count as sign-ins per source."""
SOURCE = {
    *SIGN_IN,
    "RefreshTokenFunction",
    "CreateUserFunction",
    "EmailVerificationFunction",
    "PasswordRecoveryFunction",
}
MAIL = {
    "CreateUserFunction",
    "UpdateUserFunction",
    "EmailVerificationFunction",
    "PasswordRecoveryFunction",
}
# parameter -> (environment variable, the functions that apply it)
POLICIES: dict[str, tuple[str, set[str]]] = {
    "PasswordMinLength": (
        "PASSWORD_MIN_LENGTH",
        {"CreateUserFunction", "UpdateUserFunction", "PasswordRecoveryFunction"},
    ),
    "AccessTokenTtlSeconds": (
        "ACCESS_TOKEN_TTL_SECONDS",
        {*SIGN_IN, "RefreshTokenFunction", "LogoutFunction", "AuthorizerFunction"},
    ),
    "SessionLifetimeSeconds": ("SESSION_LIFETIME_SECONDS", {*SIGN_IN, "RefreshTokenFunction"}),
    "SessionIdleTimeoutSeconds": (
        "SESSION_IDLE_TIMEOUT_SECONDS",
        {*SIGN_IN, "RefreshTokenFunction"},
    ),
    "ReauthenticationWindowSeconds": (
        "REAUTHENTICATION_WINDOW_SECONDS",
        {"UpdateUserFunction", "DeleteUserFunction", "MfaFunction", "PasskeysFunction"},
    ),
    "LoginFreeFailures": ("LOGIN_FREE_FAILURES", THROTTLE),
    "LoginBaseDelaySeconds": ("LOGIN_BASE_DELAY_SECONDS", THROTTLE),
    "LoginMaxDelaySeconds": ("LOGIN_MAX_DELAY_SECONDS", THROTTLE),
    "LoginFailuresBeforeReset": ("LOGIN_FAILURES_BEFORE_RESET", THROTTLE),
    "DeviceTokenLifetimeDays": (
        "DEVICE_TOKEN_LIFETIME_DAYS",
        {"LoginFunction", "MfaLoginFunction"},  # both answer a device token
    ),
    "SourceWindowSeconds": ("SOURCE_WINDOW_SECONDS", SOURCE),
    "SourceFailureLimit": ("SOURCE_FAILURE_LIMIT", SOURCE),
    "LoginRequestsPerSource": ("SOURCE_REQUEST_LIMIT", SIGN_IN),
    "RefreshRequestsPerSource": ("SOURCE_REQUEST_LIMIT", {"RefreshTokenFunction"}),
    "RegistrationsPerSource": ("SOURCE_REQUEST_LIMIT", {"CreateUserFunction"}),
    "RecoveryRequestsPerSource": (
        "SOURCE_REQUEST_LIMIT",
        {"EmailVerificationFunction", "PasswordRecoveryFunction"},
    ),
    "MailPerRecipientPerHour": ("MAIL_PER_RECIPIENT_PER_HOUR", MAIL),
    "MailPerSourcePerHour": ("MAIL_PER_SOURCE_PER_HOUR", MAIL),
}


def _variables(logical_id: str) -> dict[str, Any]:
    properties = TEMPLATE.function_properties(logical_id)
    variables: dict[str, Any] = properties.get("Environment", {}).get("Variables", {})
    return variables


def _functions_referencing(parameter: str) -> dict[str, str]:
    """function -> the variable that holds ``!Ref parameter``."""
    found = {}
    for logical_id in TEMPLATE.of_type("AWS::Serverless::Function"):
        for name, value in _variables(logical_id).items():
            if value == {"Ref": parameter}:
                found[logical_id] = name
    return found


@pytest.mark.parametrize("parameter", POLICIES)
def test_given_a_policy_parameter_then_exactly_the_functions_applying_it_get_it(
    parameter: str,
) -> None:
    variable, functions = POLICIES[parameter]

    assert _functions_referencing(parameter) == dict.fromkeys(functions, variable)


@pytest.mark.parametrize("parameter", POLICIES)
def test_given_a_policy_parameter_then_its_default_lies_within_its_bounds_and_the_settings(
    parameter: str,
) -> None:
    spec = TEMPLATE.body["Parameters"][parameter]
    variable, functions = POLICIES[parameter]

    assert spec["Type"] == "Number"
    assert spec["MinValue"] <= spec["Default"] <= spec["MaxValue"]
    for function in functions:
        handler = str(TEMPLATE.function_properties(function)["Handler"]).rpartition(".")[0]
        model: type[FunctionSettings] = FUNCTION_SETTINGS[handler]
        field = model.model_fields[variable.lower()]
        # A settings default (used where a variable is absent) is the template's default.
        if not field.is_required() and variable != "SOURCE_REQUEST_LIMIT":
            assert field.default == spec["Default"], (function, variable)


def test_given_the_docs_policies_table_then_it_states_each_parameters_default_and_bounds() -> None:
    readme = (REPO / "docs" / "api" / "auth.md").read_text()
    section = readme.split("## Policies", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \| (\d+)\.\.(\d+) \|", section, re.MULTILINE)

    stated = {name: (int(default), int(low), int(high)) for name, default, low, high in rows}
    declared = {
        name: (spec["Default"], spec["MinValue"], spec["MaxValue"])
        for name, spec in TEMPLATE.body["Parameters"].items()
        if name in POLICIES
    }
    assert stated == declared
