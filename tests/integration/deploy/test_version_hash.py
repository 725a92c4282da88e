"""What reaches the alias `live`: SAM publishes a new function version (which the alias, and so
every route and stream mapping, then invokes) only when its hash of the function changes, and the
version's logical id carries that hash. A new layer or a SnapStart change that left the id alone
would never reach live traffic (aws-sam-translator, offline)."""

from __future__ import annotations

import copy
import json
from typing import Any

from scripts import sam_template

VERSION = "AWS::Lambda::Version"


def _version_ids(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> the logical id of the version SAM publishes for it."""
    cfn = sam_template.translate(template)
    return {
        resource["Properties"]["FunctionName"]["Ref"]: name
        for name, resource in cfn["Resources"].items()
        if resource["Type"] == VERSION
    }


def _with_layer_content(template: dict[str, Any], layer: str, key: str) -> dict[str, Any]:
    """The template as `sam package` makes it after the layer's content changed (new S3 key)."""
    changed = copy.deepcopy(template)
    changed["Resources"][layer]["Properties"]["ContentUri"] = {"Bucket": "artifacts", "Key": key}
    return changed


def _layer_users(template: dict[str, Any], layer: str) -> set[str]:
    return {
        name
        for name in sam_template.resources_of_type(template, sam_template.FUNCTION)
        if {"Ref": layer} in (sam_template.function_property(template, name, "Layers") or [])
    }


def test_given_only_a_layers_content_changed_then_exactly_its_functions_get_new_versions() -> None:
    template = sam_template.load()
    for layer in sam_template.resources_of_type(template, sam_template.LAYER):
        before = _version_ids(_with_layer_content(template, layer, "a1b2c3"))
        after = _version_ids(_with_layer_content(template, layer, "d4e5f6"))
        users = _layer_users(template, layer)
        assert users, layer

        changed = {name for name in before if before[name] != after[name]}
        assert changed == users, layer


def test_given_snapstart_switched_then_every_function_it_applies_to_gets_a_new_version() -> None:
    """SnapStart is a literal in the template: SAM hashes the template as written, so a parameter
    or a condition there would change the function's setting and never publish a version."""
    template = sam_template.load()
    setting = template["Globals"]["Function"]["SnapStart"]["ApplyOn"]
    assert setting in {"None", "PublishedVersions"}, "SnapStart must be a literal, not an intrinsic"
    assert "SnapStart" not in json.dumps(template.get("Parameters", {}))
    switched = copy.deepcopy(template)
    switched["Globals"]["Function"]["SnapStart"]["ApplyOn"] = (
        "PublishedVersions" if setting == "None" else "None"
    )

    before, after = _version_ids(template), _version_ids(switched)

    functions = sam_template.resources_of_type(template, sam_template.FUNCTION)
    following = {name for name, f in functions.items() if "SnapStart" not in f["Properties"]}
    assert set(before) == set(functions)
    assert {name for name in before if before[name] != after[name]} == following


def test_given_every_function_then_each_of_its_properties_counts_towards_a_new_version() -> None:
    template = sam_template.load()
    lax = {
        name
        for name in sam_template.resources_of_type(template, sam_template.FUNCTION)
        if sam_template.function_property(template, name, "AutoPublishAliasAllProperties")
        is not True
    }

    assert lax == set()
    for layer in sam_template.resources_of_type(template, sam_template.LAYER).values():
        assert layer["Properties"]["PublishLambdaVersion"] is True


def test_given_snapstart_then_every_invoker_calls_the_alias_or_the_function_takes_no_snapshot() -> (
    None
):
    """SnapStart snapshots published versions: a function invoked unqualified would pay for a
    snapshot it never restores from. Routes and stream mappings invoke the alias (SAM); the
    authorizer, the rotation schedule and its permission must name it too."""
    template = sam_template.load()
    resources = template["Resources"]
    api_auth = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    invoked_by_arn = [authorizer["FunctionArn"] for authorizer in api_auth.values()]
    invoked_by_arn += [
        r["Properties"]["RotationLambdaARN"]
        for r in sam_template.resources_of_type(
            template, "AWS::SecretsManager::RotationSchedule"
        ).values()
    ]
    invoked_by_arn += [
        r["Properties"]["FunctionName"]
        for r in sam_template.resources_of_type(template, "AWS::Lambda::Permission").values()
    ]
    assert invoked_by_arn
    assert [arn for arn in invoked_by_arn if not str(arn.get("Ref", "")).endswith(".Alias")] == []
    hooks = {
        str(json.dumps(properties.get("DeploymentPreference", {})))
        for properties in [template["Globals"]["Function"]]
    }
    assert '"PreTraffic": {"Ref": "PreTrafficCheckFunction"}' in hooks.pop()
    hook = resources["PreTrafficCheckFunction"]["Properties"]
    assert hook["SnapStart"] == {"ApplyOn": "None"}  # CodeDeploy invokes it unqualified


def test_given_new_versions_then_old_ones_and_old_layers_are_deleted_once_the_update_succeeds() -> (
    None
):
    """Bounded: a retained version keeps its SnapStart cache and its code storage."""
    template = sam_template.load()
    cfn = sam_template.translate(template)

    assert template["Globals"]["Function"]["VersionDeletionPolicy"] == "Delete"
    assert {
        r.get("DeletionPolicy") for r in sam_template.resources_of_type(cfn, VERSION).values()
    } == {"Delete"}
    for layer in sam_template.resources_of_type(template, sam_template.LAYER).values():
        assert layer["Properties"]["RetentionPolicy"] == "Delete"
