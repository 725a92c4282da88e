"""Every function's environment in the template satisfies the settings model its handler reads."""

from __future__ import annotations

import pytest

from handlers.settings import FUNCTION_SETTINGS, SettingsError, TokenIssuerSettings, load
from samlocal.provision.stacks import function_environment
from samlocal.template import Template as SamTemplate
from samlocal.template import load_template
from tests.support.api_clients import TEMPLATE
from userflow.stack import Stack

FUNCTION = "AWS::Serverless::Function"


def _functions(template: SamTemplate) -> dict[str, str]:
    """Logical id -> handler module."""
    return {
        logical_id: template.function_properties(logical_id)["Handler"].rpartition(".")[0]
        for logical_id in template.of_type(FUNCTION)
    }


def test_given_the_template_when_each_function_environment_is_read_then_it_satisfies_its_model(
    stack: Stack,
) -> None:
    template = load_template(TEMPLATE)
    functions = _functions(template)

    assert set(functions.values()) == set(FUNCTION_SETTINGS)
    for logical_id, module in functions.items():
        environment = function_environment(template, logical_id, stack)
        load(FUNCTION_SETTINGS[module], environment)  # raises SettingsError naming the variable


def test_given_a_missing_and_an_invalid_variable_when_loaded_then_the_error_names_both() -> None:
    environment = {
        "TABLE_NAME": "users",
        "ISSUER": "urn:userflow:staging",
        "AUDIENCE": "urn:userflow:staging:api",
        "ACCESS_TOKEN_TTL_SECONDS": "fifteen minutes",
    }

    with pytest.raises(SettingsError) as raised:
        load(TokenIssuerSettings, environment)

    message = str(raised.value)
    assert "SIGNING_KEY_SECRET_ARN" in message
    assert "ACCESS_TOKEN_TTL_SECONDS" in message


def test_given_optional_variables_unset_when_loaded_then_the_template_defaults_apply() -> None:
    settings = load(
        TokenIssuerSettings,
        {
            "TABLE_NAME": "users",
            "ISSUER": "urn:userflow:staging",
            "AUDIENCE": "urn:userflow:staging:api",
            "SIGNING_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:k",
            "SOURCE_REQUEST_LIMIT": "100",
        },
    )

    assert (
        settings.access_token_ttl_seconds,
        settings.session_lifetime_seconds,
        settings.session_idle_timeout_seconds,
    ) == (900, 30 * 24 * 3600, 7 * 24 * 3600)
