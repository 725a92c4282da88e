"""What osls deploys from serverless.yml, checked offline: `osls package` (pinned osls, Node from
the tools venv, no AWS account) on a scratch copy of the repository, then the CloudFormation it
would deploy compared with SAM's translation of template.yaml, linted with cfn-lint, and checked
against the deploy role of deploy/bootstrap.yaml, with what `osls deploy` itself calls.

osls runs once per test session; the tests share one xdist group so that a single worker does it
while the other runs the rest of the suite.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint

from scripts import deploy_role_check, sam_template
from scripts.build_artifacts import stage_function_code
from scripts.osls_deploy_calls import CALLS, calls_in_source, deploy_actions
from scripts.serverless_gradual import traffic_hooks
from scripts.serverless_naming import HTTP_API_STAGE, Renames, function_logical_id
from scripts.serverless_package import (
    layer_directories,
    package,
    scratch_service,
    tools_missing,
)
from scripts.serverless_stack import translate_unresolved

pytestmark = pytest.mark.xdist_group("osls")

Template = dict[str, Any]
# A stand-in for what `make build` stages in a layer, bytecode included (it must survive).
STAND_IN_LAYER = {
    "python/stand_in/__init__.py": b"VALUE = 1\n",
    "python/stand_in/__pycache__/__init__.cpython-313.pyc": b"\xf3\r\r\n bytecode",
}
# Warnings cfn-lint raises about what osls itself writes, each accepted for its reason.
OSLS_WARNINGS = {
    # osls adds a DependsOn next to the GetAtt/Ref that already orders roles and routes.
    "W3005": re.compile(r"dependency already enforced"),
}


@dataclass
class Packaged:
    path: Path  # the CloudFormation template osls would deploy
    template: Template
    zips: dict[str, dict[str, bytes]]
    artifacts_bucket: str  # the bootstrap stack's (deployed into moto), where osls uploads


def _zips(directory: Path) -> dict[str, dict[str, bytes]]:
    contents = {}
    for archive in sorted(directory.glob("*.zip")):
        with zipfile.ZipFile(archive) as opened:
            contents[archive.stem] = {name: opened.read(name) for name in opened.namelist()}
    return contents


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    missing = tools_missing()
    if missing:
        pytest.fail(missing)
    layers = dict.fromkeys(layer_directories(), STAND_IN_LAYER)
    service = scratch_service(tmp_path_factory.mktemp("osls"), layers)
    result = package(service)
    template = json.loads(result.template.read_text())
    return Packaged(
        result.template, template, _zips(result.template.parent), result.artifacts_bucket
    )


@pytest.fixture(scope="module")
def sam() -> Template:
    return sam_template.load()


@pytest.fixture(scope="module")
def cfn(sam: Template) -> Template:
    return translate_unresolved(sam)


def _functions(sam: Template) -> list[str]:
    """The functions osls deploys: the template's, save the traffic hooks of SAM's gradual
    deployment (scripts/serverless_gradual.py)."""
    hooks = traffic_hooks(translate_unresolved(sam))
    return [f for f in sam_template.resources_of_type(sam, sam_template.FUNCTION) if f not in hooks]


def _generated() -> Template:
    """serverless.yml as generated (tests/unit/deploy/test_serverless_generator.py holds it to the
    template)."""
    document: Template = yaml.safe_load((sam_template.ROOT / "serverless.yml").read_text())
    return document


def _renames(sam: Template, cfn: Template) -> Renames:
    """osls' names (its naming.js) for what SAM names otherwise."""
    ids = {name: function_logical_id(name) for name in _functions(sam)}
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            ids[logical_id] = f"{logical_id[:-10]}LambdaLayer"
        if resource["Type"] == "AWS::ApiGatewayV2::Stage":
            ids[logical_id] = HTTP_API_STAGE
    return Renames(ids=ids)


def _of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _target(value: Any) -> str:
    """The function a route, an authorizer or a mapping invokes (directly or by an alias)."""
    text = json.dumps(value)
    match = (
        re.search(r'"Fn::GetAtt": \["([A-Za-z0-9]+)", "Arn"\]', text)
        or re.search(r"\$\{([A-Za-z0-9]+?)(?:Aliaslive)?(?:\.Arn)?\}", text)
        or re.search(r'"Ref": "([A-Za-z0-9]+?)(?:Aliaslive)?"', text)
    )
    assert match, text
    name = match.group(1)
    return name.removesuffix("LambdaFunction")


# ------------------------------------------------------------------------------ lint


def test_given_the_packaged_template_when_cfn_lint_runs_then_it_finds_no_error(
    packaged: Packaged,
) -> None:
    findings = lint(json.dumps(packaged.template, indent=1))

    unexpected = [
        f"{m.rule.id} {m.message}"
        for m in findings
        if m.rule.id not in OSLS_WARNINGS or not OSLS_WARNINGS[m.rule.id].search(m.message)
    ]
    assert unexpected == []


# ------------------------------------------------------------------------------ artifacts


def test_given_the_function_package_then_it_holds_exactly_what_build_artifacts_stages(
    packaged: Packaged, tmp_path: Path
) -> None:
    stage_function_code(tmp_path / "function")
    staged = {
        path.relative_to(tmp_path / "function").as_posix(): path.read_bytes()
        for path in (tmp_path / "function").rglob("*")
        if path.is_file()
    }

    assert packaged.zips["userflow"] == staged


def test_given_the_layer_packages_then_each_holds_its_staged_directory_bytecode_included(
    packaged: Packaged,
) -> None:
    layers = {k: v for k, v in packaged.zips.items() if k != "userflow"}

    assert layers == {"DependenciesLayer": STAND_IN_LAYER, "PasswordBlocklistLayer": STAND_IN_LAYER}


def test_given_every_function_then_its_version_hashes_the_content_of_its_stack_layers(
    sam: Template, packaged: Packaged
) -> None:
    """osls hashes into a version's logical ID the content of each layer a function names with a
    `Ref` to a layer of the stack (functions.js, extractLayerConfigurationsFromFunction), so that
    a dependency update publishes new versions. A layer whose logical ID osls changes (`retain:
    true` appends a hash) would leave the `Ref` pointing at nothing and drop out of the hash."""
    resources = packaged.template["Resources"]
    versions = _of_type(packaged.template, "AWS::Lambda::Version")
    versioned = {v["Properties"]["FunctionName"]["Ref"] for v in versions.values()}
    assert versioned == {function_logical_id(f) for f in _functions(sam)}
    for function in versioned:
        stack_layers = [
            layer["Ref"] for layer in resources[function]["Properties"]["Layers"] if "Ref" in layer
        ]
        assert stack_layers, function
        for layer in stack_layers:
            assert resources[layer]["Type"] == "AWS::Lambda::LayerVersion", (function, layer)


# ------------------------------------------------------------------------------ same stack


def test_given_every_function_then_osls_deploys_it_with_the_properties_sam_would(
    sam: Template, cfn: Template, packaged: Packaged
) -> None:
    renames = _renames(sam, cfn)
    ignored = {"Code", "Tags", "SnapStart", "FunctionName"}
    for function in _functions(sam):
        expected = renames.apply(cfn["Resources"][function]["Properties"], function)
        deployed = packaged.template["Resources"][function_logical_id(function)]["Properties"]
        assert {k: v for k, v in deployed.items() if k not in ignored} == {
            k: v for k, v in expected.items() if k not in ignored
        }, function
        # SnapStart off, as the template says: osls sets none.
        assert cfn["Resources"][function]["Properties"]["SnapStart"] == {"ApplyOn": "None"}
        assert "SnapStart" not in deployed


def test_given_every_function_role_then_it_grants_exactly_what_sam_generates(
    sam: Template, cfn: Template, packaged: Packaged
) -> None:
    deployed_roles = _of_type(packaged.template, "AWS::IAM::Role")
    for function in _functions(sam):
        role = cfn["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
        expected = cfn["Resources"][role]["Properties"]
        deployed = deployed_roles[role]["Properties"]
        assert deployed.get("Policies", []) == expected.get("Policies", []), role
        assert deployed["AssumeRolePolicyDocument"] == expected["AssumeRolePolicyDocument"]
        assert len(deployed["ManagedPolicyArns"]) == len(expected["ManagedPolicyArns"])
    # No role but the functions' own: osls made no shared execution role.
    assert "IamRoleLambdaExecution" not in packaged.template["Resources"]


def _sam_routes(cfn: Template) -> dict[str, tuple[str, str | None]]:
    (api,) = _of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    routes = {}
    for path, operations in api["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            security = [n for s in operation.get("security", []) for n in s if n != "NONE"]
            function = _target(operation["x-amazon-apigateway-integration"]["uri"])
            routes[f"{method.upper()} {path}"] = (function, security[0] if security else None)
    return routes


def test_given_the_http_api_then_osls_routes_every_path_to_the_same_function_and_authorizer(
    cfn: Template, packaged: Packaged
) -> None:
    resources = packaged.template["Resources"]
    authorizers = {
        logical_id: authorizer["Properties"]["Name"]
        for logical_id, authorizer in _of_type(
            packaged.template, "AWS::ApiGatewayV2::Authorizer"
        ).items()
    }
    deployed = {}
    for route in _of_type(packaged.template, "AWS::ApiGatewayV2::Route").values():
        properties = route["Properties"]
        integration = properties["Target"]["Fn::Join"][1][1]["Ref"]
        function = _target(resources[integration]["Properties"]["IntegrationUri"])
        authorizer = properties.get("AuthorizerId", {}).get("Ref")
        deployed[properties["RouteKey"]] = (function, authorizers.get(authorizer))

    assert deployed == _sam_routes(cfn)


def test_given_the_authorizer_then_osls_builds_the_request_authorizer_sam_would(
    cfn: Template, packaged: Packaged
) -> None:
    (api,) = _of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    schemes = api["Properties"]["Body"]["components"]["securitySchemes"]
    for name, scheme in schemes.items():
        expected = scheme["x-amazon-apigateway-authorizer"]
        deployed = packaged.template["Resources"][f"HttpApiAuthorizer{name}"]["Properties"]
        assert deployed["AuthorizerType"] == expected["type"].upper()
        assert deployed["IdentitySource"] == expected["identitySource"]
        assert deployed["AuthorizerResultTtlInSeconds"] == expected["authorizerResultTtlInSeconds"]
        assert (
            deployed["AuthorizerPayloadFormatVersion"] == expected["authorizerPayloadFormatVersion"]
        )
        assert deployed["EnableSimpleResponses"] == expected["enableSimpleResponses"]
        assert _target(deployed["AuthorizerUri"]) == _target(expected["authorizerUri"])


def _mapping(properties: dict[str, Any]) -> dict[str, Any]:
    """A stream mapping's settings with Lambda's defaults made explicit and filters parsed."""
    settings = {"Enabled": True, "ParallelizationFactor": 1, "BatchSize": 100, **properties}
    settings.pop("FunctionName")
    filters = settings.pop("FilterCriteria", {}).get("Filters", [])
    settings["Filters"] = [json.loads(f["Pattern"]) for f in filters]
    return settings


def test_given_every_stream_mapping_then_osls_builds_it_with_the_same_settings(
    cfn: Template, packaged: Packaged
) -> None:
    def by_function(template: Template) -> dict[str, list[dict[str, Any]]]:
        mappings: dict[str, list[dict[str, Any]]] = {}
        for mapping in _of_type(template, "AWS::Lambda::EventSourceMapping").values():
            target = _target(mapping["Properties"]["FunctionName"])
            mappings.setdefault(target, []).append(_mapping(mapping["Properties"]))
        return mappings

    expected = by_function(cfn)
    # The table's two stream mappings and the webhook queue's SQS mapping.
    assert sum(len(m) for m in expected.values()) == 3
    assert by_function(packaged.template) == expected


def test_given_the_stage_and_api_then_access_log_metrics_and_cors_are_the_templates(
    sam: Template, cfn: Template, packaged: Packaged
) -> None:
    (stage,) = _of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    deployed_stage = packaged.template["Resources"][HTTP_API_STAGE]["Properties"]
    for key in ("AccessLogSettings", "DefaultRouteSettings", "RouteSettings"):
        assert deployed_stage.get(key) == stage["Properties"].get(key), key
    (api,) = sam_template.resources_of_type(sam, "AWS::Serverless::HttpApi").values()
    deployed_api = packaged.template["Resources"]["HttpApi"]["Properties"]
    assert deployed_api["CorsConfiguration"] == api["Properties"]["CorsConfiguration"]


def test_given_every_other_resource_then_osls_deploys_it_as_serverless_yml_carries_it(
    sam: Template, cfn: Template, packaged: Packaged
) -> None:
    resources = packaged.template["Resources"]
    carried = _generated()["resources"]["Resources"]
    left_out = set(_generated()["custom"]["leftOutFromTemplate"])
    plain = [k for k, v in sam["Resources"].items() if not v["Type"].startswith("AWS::Serverless")]
    assert plain
    for logical_id in plain:
        if logical_id in left_out:
            assert logical_id not in resources
        else:
            assert resources[logical_id] == carried[logical_id], logical_id
    assert packaged.template["Conditions"] == cfn["Conditions"]
    assert packaged.template["Mappings"] == cfn["Mappings"]
    # Through the repository's plugin (scripts/osls_rules.cjs): osls' `resources` refuses them.
    assert packaged.template["Rules"] == cfn["Rules"]
    renames = _renames(sam, cfn)
    for name, output in cfn["Outputs"].items():
        assert packaged.template["Outputs"][name] == renames.apply(output, name)


def test_given_the_default_params_then_every_parameter_defaults_as_in_the_template(
    sam: Template, packaged: Packaged
) -> None:
    defaults = {k: v.get("Default") for k, v in packaged.template["Parameters"].items()}

    assert defaults == {
        name: "staging" if name == "Stage" else parameter.get("Default")
        for name, parameter in sam["Parameters"].items()
    }


# ------------------------------------------------------------------------------ deploy role


def test_given_the_packaged_template_then_osls_uploads_to_the_bootstrap_bucket_and_makes_none(
    packaged: Packaged,
) -> None:
    assert not _of_type(packaged.template, "AWS::S3::Bucket")
    functions = _of_type(packaged.template, "AWS::Lambda::Function").values()
    layers = _of_type(packaged.template, "AWS::Lambda::LayerVersion").values()
    buckets = {f["Properties"]["Code"]["S3Bucket"] for f in functions} | {
        layer["Properties"]["Content"]["S3Bucket"] for layer in layers
    }
    # The bootstrap stack's output, read by osls itself (`cf:`), as in a deploy.
    assert buckets == {packaged.artifacts_bucket}


def test_given_the_packaged_template_when_checked_then_the_deploy_role_deploys_it_and_sams_alike(
    packaged: Packaged, capsys: pytest.CaptureFixture[str]
) -> None:
    """One role deploys the stack with either tool: every permission CloudFormation's handlers
    need for osls' stack, and every call `osls deploy` makes itself, is granted, and nothing
    beyond what one of the two deploys needs or the role documents."""
    status = deploy_role_check.main([str(sam_template.TEMPLATE), str(packaged.path), "--osls"])

    assert (status, capsys.readouterr().err) == (0, "")


@pytest.mark.parametrize(
    "action",
    ["cloudformation:ValidateTemplate", "s3:DeleteObject", "s3:AbortMultipartUpload"],
)
def test_given_a_role_without_a_call_osls_deploy_makes_when_checked_then_it_is_named(
    packaged: Packaged, action: str
) -> None:
    role = deploy_role_check.read_role()
    role.grants = [g for g in role.grants if g.action.lower() != action.lower()]
    templates = [deploy_role_check.load_cloudformation(packaged.path)]

    found = deploy_role_check.problems(templates, role, tool_calls=deploy_actions())

    assert f"missing {action.lower()} (osls deploy calls " in " | ".join(found)


def test_given_osls_source_then_every_aws_call_a_deploy_makes_is_classified() -> None:
    """An osls upgrade that calls AWS somewhere new fails here until scripts/osls_deploy_calls.py
    says whether a deploy of serverless.yml makes the call, and with which IAM actions."""
    found = calls_in_source()

    assert set(found) == set(CALLS), {k: found.get(k) for k in set(found) ^ set(CALLS)}
    for call in CALLS.values():
        assert bool(call.actions) != bool(call.unused)
