"""Gradual deploys with automatic rollback (template.yaml, Globals.Function.DeploymentPreference):
every function behind a route moves its alias through CodeDeploy, after a pre-traffic check that
invokes the new version, with the error alarms as rollback triggers.

Every check iterates over the template's functions, so functions added later are covered.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from adapters.deployment_check import probe_event
from samlocal.apigateway.responses import map_function_result
from samlocal.template import load_template
from scripts import sam_template
from tests.support.api_clients import TEMPLATE, ApiClient

HOOK = "PreTrafficCheckFunction"
ROLLBACK_ALARMS = {
    "UserApiFunctionErrorsAlarm",
    "AuthApiFunctionErrorsAlarm",
    "AccountRecoveryFunctionErrorsAlarm",
}


def _functions() -> dict[str, dict[str, Any]]:
    template = load_template(TEMPLATE)
    return {
        name: template.function_properties(name) for name in template.of_type(sam_template.FUNCTION)
    }


def _merged_preference(name: str) -> dict[str, Any]:
    """DeploymentPreference as SAM merges it (Globals, then the function's own keys)."""
    template = load_template(TEMPLATE)
    merged = dict(template.body["Globals"]["Function"].get("DeploymentPreference", {}))
    own = template.resources[name]["Properties"].get("DeploymentPreference", {})
    return {**merged, **own}


def _behind_routes() -> set[str]:
    return {
        name
        for name, properties in _functions().items()
        if any(e.get("Type") == "HttpApi" for e in properties.get("Events", {}).values())
    }


API_FUNCTIONS = sorted(_behind_routes())


def test_given_every_function_behind_a_route_then_codedeploy_shifts_it_after_the_check() -> None:
    assert API_FUNCTIONS
    for name in _functions():
        preference = _merged_preference(name)
        enabled = preference.get("Enabled", True) is not False
        assert enabled == (name in API_FUNCTIONS), name
        if enabled:
            assert preference["Hooks"] == {"PreTraffic": {"Ref": HOOK}}, name
            alarms = {alarm["Ref"] for alarm in preference["Alarms"]}
            assert alarms == ROLLBACK_ALARMS, name


def test_given_the_translated_template_then_each_alias_waits_for_codedeploy_and_its_alarms() -> (
    None
):
    cfn = sam_template.translate(sam_template.load())
    groups = sam_template.resources_of_type(cfn, "AWS::CodeDeploy::DeploymentGroup")
    aliases = sam_template.resources_of_type(cfn, "AWS::Lambda::Alias")
    for name in API_FUNCTIONS:
        group = groups[f"{name}DeploymentGroup"]["Properties"]
        alarms = {a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]}
        assert alarms == ROLLBACK_ALARMS
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        update = aliases[f"{name}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["BeforeAllowTrafficHook"] == {"Ref": HOOK}
    # Staging shifts at once, prod as a canary (10% for 5 minutes) watched by the alarms.
    configs = {str(g["Properties"]["DeploymentConfigName"]) for g in groups.values()}
    assert len(configs) == 1
    assert "Canary10Percent5Minutes" in configs.pop()


def test_given_the_hook_when_its_role_is_read_then_it_may_invoke_exactly_the_checked_versions() -> (
    None
):
    template = load_template(TEMPLATE)
    statements = template.resources[HOOK]["Properties"]["Policies"][0]["Statement"]
    invokable = {
        re.fullmatch(r"\$\{(\w+)\.Arn\}:\*", resource["Fn::Sub"]).group(1)  # type: ignore[union-attr]
        for statement in statements
        if statement["Action"] == ["lambda:InvokeFunction"]
        for resource in statement["Resource"]
    }
    name = template.resources[HOOK]["Properties"]["FunctionName"]["Fn::Sub"]

    assert invokable == set(API_FUNCTIONS)
    # SAM's CodeDeploy role (AWSCodeDeployRoleForLambda) invokes only hooks named so.
    assert name.startswith("CodeDeployHook_")


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_given_the_pre_traffic_probe_when_a_function_answers_then_without_a_server_error(
    api: ApiClient, logical_id: str
) -> None:
    result = api.invoke(logical_id, probe_event())

    assert map_function_result(result).status < 500
