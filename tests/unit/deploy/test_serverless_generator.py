"""serverless.yml, generated from template.yaml: current, complete and faithful to the template.

Each check walks whatever template.yaml holds (SAM's own view of it, merged Globals included), so
functions, routes and resources added later are covered. tests/integration/
test_serverless_package.py checks what osls compiles from the file.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from samlocal.template import Template
from scripts import sam_template
from scripts.build_artifacts import LAYERS, ROOT, STAGING_DIR
from scripts.generate_serverless import OUTPUT, RULES, RULES_PLUGIN, build_document, render
from scripts.serverless_naming import GeneratorError, Renames, function_logical_id
from scripts.serverless_params import stage_params
from scripts.serverless_stack import (
    GRADUAL_DEPLOYMENT,
    GRADUAL_DEPLOYMENT_REASON,
    translate_unresolved,
)

Document = dict[str, Any]


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return sam_template.load()


@pytest.fixture(scope="module")
def document(sam: dict[str, Any]) -> Document:
    return build_document(sam)


def _functions(sam: dict[str, Any]) -> list[str]:
    return list(sam_template.resources_of_type(sam, sam_template.FUNCTION))


def _hooks(sam: dict[str, Any]) -> set[str]:
    """The traffic hooks of SAM's gradual deployment (`DeploymentPreference.Hooks`)."""
    preferences = [sam["Globals"]["Function"].get("DeploymentPreference", {})] + [
        sam["Resources"][f]["Properties"].get("DeploymentPreference", {}) for f in _functions(sam)
    ]
    return {hook["Ref"] for p in preferences for hook in p.get("Hooks", {}).values()}


def _carried_functions(sam: dict[str, Any]) -> list[str]:
    """The functions serverless.yml deploys: all but the traffic hooks."""
    return [f for f in _functions(sam) if f not in _hooks(sam)]


def _merged(sam: dict[str, Any], function: str) -> dict[str, Any]:
    return Template(sam_template.TEMPLATE, sam).function_properties(function)


def _setting(document: Document, function: str, key: str) -> Any:
    """A function's osls setting, falling back to the provider's as osls does."""
    return document["functions"][function].get(key, document["provider"].get(key))


def _renames(sam: dict[str, Any]) -> Renames:
    """How osls names what SAM names otherwise (osls' naming.js); SAM's alias of a function
    (`!Ref Fn.Alias`) is the function itself, as osls invokes it without SnapStart."""
    ids = {name: function_logical_id(name) for name in _functions(sam)}
    aliases = {f"{name}.Alias": {"Fn::GetAtt": [ids[name], "Arn"]} for name in _functions(sam)}
    return Renames(ids=ids, values=aliases)


def _http_events(document: Document) -> dict[str, tuple[str, str | None]]:
    routes = {}
    for name, function in document["functions"].items():
        for event in function.get("events", []):
            if "httpApi" in event:
                route = event["httpApi"]
                authorizer = route.get("authorizer", {}).get("name")
                routes[f"{route['method']} {route['path']}"] = (name, authorizer)
    return routes


def _stream_events(document: Document, function: str) -> list[dict[str, Any]]:
    events = document["functions"][function].get("events", [])
    return [event["stream"] for event in events if "stream" in event]


# ------------------------------------------------------------------------------ drift


def test_given_the_template_when_serverless_yml_is_generated_then_the_committed_file_matches() -> (
    None
):
    assert OUTPUT.read_text() == render(), "serverless.yml is stale: run `make serverless`"


# ------------------------------------------------------------------------------ functions


def test_given_every_sam_function_then_osls_runs_the_same_handler_with_the_same_resources(
    sam: dict[str, Any], document: Document
) -> None:
    assert _hooks(sam)
    assert list(document["functions"]) == _carried_functions(sam)
    for function in _carried_functions(sam):
        merged = _merged(sam, function)
        assert _setting(document, function, "handler") == merged["Handler"]
        assert _setting(document, function, "runtime") == merged["Runtime"]
        assert [_setting(document, function, "architecture")] == merged["Architectures"]
        assert _setting(document, function, "memorySize") == merged["MemorySize"]
        assert _setting(document, function, "timeout") == merged["Timeout"]
        assert _setting(document, function, "description") == merged.get("Description")
        # Every function writes to the log group the template gives it, never one osls makes.
        assert document["functions"][function]["disableLogs"] is True


def test_given_every_sam_function_then_its_environment_is_the_merged_globals_and_its_own(
    sam: dict[str, Any], document: Document
) -> None:
    renames = _renames(sam)
    for function in _carried_functions(sam):
        expected = renames.apply(_merged(sam, function)["Environment"]["Variables"], function)
        environment = {
            **document["provider"]["environment"],
            **document["functions"][function].get("environment", {}),
        }
        assert environment == expected, function


def test_given_every_sam_function_then_it_has_the_globals_layers_then_its_own(
    sam: dict[str, Any], document: Document
) -> None:
    layers = sam_template.resources_of_type(sam, sam_template.LAYER)
    for function in _carried_functions(sam):
        expected = [
            {"Ref": f"{layer['Ref']}LambdaLayer"}
            if isinstance(layer, dict) and layer.get("Ref") in layers
            else layer
            for layer in _merged(sam, function)["Layers"]
        ]
        assert document["functions"][function]["layers"] == expected, function


def test_given_the_snapstart_setting_then_every_function_follows_it(
    sam: dict[str, Any], document: Document
) -> None:
    for function in _carried_functions(sam):
        published = _merged(sam, function)["SnapStart"]["ApplyOn"] == "PublishedVersions"
        assert document["functions"][function].get("snapStart", False) is published, function


def test_given_every_function_then_it_logs_to_the_log_group_the_template_gives_it(
    sam: dict[str, Any], document: Document
) -> None:
    extensions = document["resources"]["extensions"]
    for function in _carried_functions(sam):
        logging = _merged(sam, function)["LoggingConfig"]
        # osls' `logs.logGroup` takes a literal name only: the reference extends its resource.
        assert "logs" not in document["functions"][function]
        extension = extensions[function_logical_id(function)]["Properties"]
        assert extension["LoggingConfig"] == logging, function


# ------------------------------------------------------------------------------ IAM


def test_given_every_function_then_it_runs_with_the_role_the_template_gives_it(
    sam: dict[str, Any], document: Document
) -> None:
    translated = translate_unresolved(sam)
    resources = document["resources"]["Resources"]
    for function in _carried_functions(sam):
        role = document["functions"][function]["role"]
        assert translated["Resources"][function]["Properties"]["Role"] == {
            "Fn::GetAtt": [role, "Arn"]
        }
        expected = translated["Resources"][role]["Properties"]
        carried = resources[role]["Properties"]
        # Least privilege as the template writes it: the same inline statements...
        assert carried.get("Policies", []) == _renames(sam).apply(
            expected.get("Policies", []), role
        )
        assert carried["AssumeRolePolicyDocument"] == expected["AssumeRolePolicyDocument"]
        # ...and the same managed policies, in whichever partition the stack is deployed.
        assert [_partition_neutral(arn) for arn in carried.get("ManagedPolicyArns", [])] == [
            _partition_neutral(arn) for arn in expected.get("ManagedPolicyArns", [])
        ]


def _partition_neutral(arn: Any) -> str:
    text = str(arn["Fn::Sub"] if isinstance(arn, dict) else arn)
    return text[text.index(":iam::") :]


def test_given_the_roles_then_none_relies_on_an_osls_default_role_or_plugin(
    document: Document,
) -> None:
    assert "iam" not in document["provider"]
    # The one plugin is the repository's own, for the template's Rules.
    assert document.get("plugins", []) == [RULES_PLUGIN]
    assert (ROOT / RULES_PLUGIN).is_file()
    assert all("role" in function for function in document["functions"].values())


# ------------------------------------------------------------------------------ events


def test_given_every_http_route_then_the_same_function_serves_it_behind_the_same_authorizer(
    sam: dict[str, Any], document: Document
) -> None:
    api = next(iter(sam_template.resources_of_type(sam, "AWS::Serverless::HttpApi").values()))
    default = api["Properties"]["Auth"]["DefaultAuthorizer"]
    expected = {}
    for function in _functions(sam):
        for event in _merged(sam, function).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                route = event["Properties"]
                authorizer = route.get("Auth", {}).get("Authorizer", default)
                key = f"{route['Method'].upper()} {route['Path']}"
                expected[key] = (function, None if authorizer == "NONE" else authorizer)

    assert _http_events(document) == expected


def test_given_the_authorizer_then_osls_configures_the_same_request_authorizer(
    sam: dict[str, Any], document: Document
) -> None:
    api = next(iter(sam_template.resources_of_type(sam, "AWS::Serverless::HttpApi").values()))
    for name, written in api["Properties"]["Auth"]["Authorizers"].items():
        authorizer = document["provider"]["httpApi"]["authorizers"][name]
        # The function, by its ARN or by SAM's alias of it (`!Ref AuthorizerFunction.Alias`).
        target = written["FunctionArn"]
        function = target["Fn::GetAtt"][0] if "Fn::GetAtt" in target else target["Ref"]
        assert authorizer == {
            "type": "request",
            "functionName": function.removesuffix(".Alias"),
            "identitySource": [f"$request.header.{h}" for h in written["Identity"]["Headers"]],
            "payloadVersion": written["AuthorizerPayloadFormatVersion"],
            "enableSimpleResponses": written["EnableSimpleResponses"],
            "resultTtlInSeconds": written["Identity"]["ReauthorizeEvery"],
        }


def test_given_every_stream_mapping_then_its_batching_filters_retries_and_failure_queue_are_kept(
    sam: dict[str, Any], document: Document
) -> None:
    keys = {
        "BatchSize": "batchSize",
        "StartingPosition": "startingPosition",
        "MaximumBatchingWindowInSeconds": "batchWindow",
        "MaximumRetryAttempts": "maximumRetryAttempts",
        "BisectBatchOnFunctionError": "bisectBatchOnFunctionError",
        "MaximumRecordAgeInSeconds": "maximumRecordAgeInSeconds",
    }
    mapped = 0
    for function in _carried_functions(sam):
        written = [
            event["Properties"]
            for event in _merged(sam, function).get("Events", {}).values()
            if event["Type"] == "DynamoDB"
        ]
        streams = _stream_events(document, function)
        assert len(streams) == len(written), function
        for source, stream in zip(written, streams, strict=True):
            mapped += 1
            assert stream["type"] == "dynamodb"
            assert stream["arn"] == source["Stream"]
            for key, setting in keys.items():
                assert stream.get(setting) == source.get(key, 100 if key == "BatchSize" else None)
            assert [stream["functionResponseType"]] == source["FunctionResponseTypes"]
            assert stream["filterPatterns"] == [
                json.loads(f["Pattern"]) for f in source["FilterCriteria"]["Filters"]
            ]
            failure = source["DestinationConfig"]["OnFailure"]
            assert stream["destinations"] == {
                "onFailure": {"arn": failure["Destination"], "type": failure["Type"].lower()}
            }
    assert mapped == 2


# ------------------------------------------------------------------------------ the rest


def _plain(sam: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in sam["Resources"].items() if not v["Type"].startswith("AWS::Serverless")
    }


def _names(value: Any, logical_ids: set[str]) -> bool:
    """Whether ``value`` refers to any of ``logical_ids`` (Ref, GetAtt, Sub text)."""
    text = json.dumps(value)
    return any(
        f'"Ref": "{i}"' in text or f'"Fn::GetAtt": ["{i}"' in text or f"${{{i}" in text
        for i in logical_ids
    )


def _hook_pieces(sam: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(the hooks' log groups, the alarms on a hook's metric alone), as template.yaml has them."""
    hooks = _hooks(sam)
    log_groups = {_merged(sam, h)["LoggingConfig"]["LogGroup"]["Ref"] for h in hooks}
    alarms = {
        k
        for k, v in _plain(sam).items()
        if v["Type"] == "AWS::CloudWatch::Alarm"
        and _names(v["Properties"].get("Dimensions", []), hooks)
    }
    return log_groups, alarms


def _without_hooks(resource: dict[str, Any], hooks: set[str], alarms: set[str]) -> dict[str, Any]:
    """A resource as serverless.yml carries it: without the metric queries of the traffic hooks
    and without the alarms on them in a dashboard's alarm list."""
    resource = copy.deepcopy(resource)
    properties = resource.get("Properties", {})
    if "Metrics" in properties:
        properties["Metrics"] = [q for q in properties["Metrics"] if not _names(q, hooks)]
    body = properties.get("DashboardBody", {})
    if isinstance(body, dict) and isinstance(body.get("Fn::Sub"), str):
        text = body["Fn::Sub"]
        for alarm in alarms:
            text = text.replace(f', "${{{alarm}.Arn}}"', "")
        properties["DashboardBody"] = {"Fn::Sub": text}
    return resource


def test_given_every_other_resource_then_it_is_carried_as_written_with_references_renamed(
    sam: dict[str, Any], document: Document
) -> None:
    renames = _renames(sam)
    resources = document["resources"]["Resources"]
    hooks = _hooks(sam)
    log_groups, alarms = _hook_pieces(sam)
    for logical_id, resource in _plain(sam).items():
        if logical_id in log_groups | alarms:
            continue
        expected = _without_hooks(resource, hooks, alarms)
        assert resources[logical_id] == renames.apply(expected, logical_id), logical_id


def test_given_the_gradual_deployment_then_its_hook_role_log_group_and_alarm_are_left_out(
    sam: dict[str, Any], document: Document
) -> None:
    hooks = _hooks(sam)
    log_groups, alarms = _hook_pieces(sam)
    roles = {f"{hook}Role" for hook in hooks}  # generated by SAM from the hooks' policies
    resources = document["resources"]["Resources"]
    assert log_groups
    assert alarms
    assert not (hooks | log_groups | alarms | roles) & (set(resources) | set(document["functions"]))
    # Nothing carried still names them: the dashboard and the throttles alarm lost them.
    assert not _names(document, hooks | log_groups | alarms | roles)
    trimmed = {k for k, v in _plain(sam).items() if k not in alarms and _names(v, hooks | alarms)}
    assert trimmed
    for logical_id in trimmed:
        assert resources[logical_id] != _renames(sam).apply(sam["Resources"][logical_id], "")
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    json.loads(body)
    # The record, in the file: what is not carried, why, and what went with it.
    custom = document["custom"]
    assert custom["notCarriedFromTemplate"] == {GRADUAL_DEPLOYMENT: GRADUAL_DEPLOYMENT_REASON}
    assert set(custom["leftOutFromTemplate"]) == hooks | log_groups | alarms | roles
    assert set(custom["trimmedFromTemplate"]) == trimmed


def test_given_parameters_then_each_stays_validated_by_cloudformation_with_an_osls_default(
    sam: dict[str, Any], document: Document
) -> None:
    parameters = document["resources"]["Parameters"]
    assert set(parameters) == set(sam["Parameters"])
    for name, written in sam["Parameters"].items():
        carried = parameters[name]
        assert {k: v for k, v in carried.items() if k != "Default"} == {
            k: v for k, v in written.items() if k != "Default"
        }
        if name == "Stage":
            assert carried["Default"] == "${sls:stage}"
        else:
            assert carried["Default"] == f"${{param:{name}}}"
            assert document["params"]["default"][name] == written["Default"]


def test_given_samconfig_overrides_then_each_stage_gets_them_as_its_osls_params() -> None:
    samconfig = """
version = 0.1
[staging.deploy.parameters]
parameter_overrides = "Stage=staging"
[prod.deploy.parameters]
parameter_overrides = "Stage=prod AlarmEmail=oncall@example.com 'FrontendUrl=https://a.example/a b'"
[other.deploy.parameters]
parameter_overrides = ["SnapStart=true"]
"""

    assert stage_params(samconfig) == {
        "prod": {"AlarmEmail": "oncall@example.com", "FrontendUrl": "https://a.example/a b"},
        "other": {"SnapStart": "true"},
    }


def test_given_conditions_mappings_rules_and_outputs_then_they_are_carried(
    sam: dict[str, Any], document: Document
) -> None:
    assert document["resources"]["Conditions"] == sam["Conditions"]
    assert document["resources"]["Mappings"] == sam["Mappings"]
    assert document["resources"]["Outputs"] == _renames(sam).apply(sam["Outputs"], "Outputs")
    # osls' `resources` refuses Rules: the repository's plugin adds these to the template.
    assert sam["Rules"]
    assert document["custom"][RULES] == sam["Rules"]
    assert "Rules" not in document["resources"]


def test_given_the_http_api_then_cors_access_log_and_route_metrics_extend_osls_api_and_stage(
    sam: dict[str, Any], document: Document
) -> None:
    api = next(iter(sam_template.resources_of_type(sam, "AWS::Serverless::HttpApi").values()))
    written = api["Properties"]
    extensions = document["resources"]["extensions"]

    assert extensions["HttpApi"]["Properties"] == {
        "CorsConfiguration": written["CorsConfiguration"]
    }
    stage = extensions["HttpApiStage"]["Properties"]
    assert stage["DefaultRouteSettings"] == written["DefaultRouteSettings"]
    assert (
        stage["AccessLogSettings"]["DestinationArn"]
        == written["AccessLogSettings"]["DestinationArn"]
    )


def test_given_layers_sam_builds_through_the_makefile_then_osls_packages_their_staged_directories(
    sam: dict[str, Any], document: Document
) -> None:
    for name, layer in sam_template.resources_of_type(sam, sam_template.LAYER).items():
        written = layer["Properties"]
        assert layer["Metadata"]["BuildMethod"] == "makefile"
        generated = document["layers"][name]
        # What `make build-<LogicalId>` copies into SAM's artifact: build_artifacts' staging.
        assert ROOT / generated["path"] == STAGING_DIR / LAYERS[name][0]
        assert generated["compatibleRuntimes"] == written["CompatibleRuntimes"]
        assert generated["compatibleArchitectures"] == written["CompatibleArchitectures"]
        # Bytecode and all: nothing of the staged layer is filtered out.
        assert generated["package"] == {"patterns": ["**"]}
        extension = document["resources"]["extensions"][f"{name}LambdaLayer"]
        assert extension.pop("Properties") == {"LayerName": written["LayerName"]}
        # RetentionPolicy: Delete is CloudFormation's default; Retain keeps every old version.
        retained = written["RetentionPolicy"] == "Retain"
        assert extension == (
            {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"} if retained else {}
        )


# ------------------------------------------------------------------------------ changes


def _with_function(sam: dict[str, Any], name: str, **properties: Any) -> dict[str, Any]:
    changed = copy.deepcopy(sam)
    changed["Resources"][name] = {
        "Type": sam_template.FUNCTION,
        "Properties": {"Handler": "handlers.handle_jwks.handler", **properties},
    }
    return changed


def test_given_a_new_function_with_a_route_then_the_output_serves_that_route(
    sam: dict[str, Any],
) -> None:
    route = {"ApiId": {"Ref": "HttpApi"}, "Path": "/ping", "Method": "GET"}
    changed = _with_function(
        sam, "PingFunction", Events={"Ping": {"Type": "HttpApi", "Properties": route}}
    )

    document = build_document(changed)

    assert _http_events(document)["GET /ping"] == ("PingFunction", "JwtAuthorizer")
    assert document["resources"]["Resources"]["PingFunctionRole"]["Type"] == "AWS::IAM::Role"


def test_given_a_changed_policy_statement_then_the_generated_role_changes(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    statement = changed["Resources"]["LogoutFunction"]["Properties"]["Policies"][0]["Statement"][0]
    statement["Action"] = ["dynamodb:GetItem"]

    role = build_document(changed)["resources"]["Resources"]["LogoutFunctionRole"]

    assert role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == [
        "dynamodb:GetItem"
    ]


def test_given_a_new_plain_resource_then_it_is_carried(sam: dict[str, Any]) -> None:
    changed = copy.deepcopy(sam)
    changed["Resources"]["AuditQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"Tags": [{"Key": "for", "Value": {"Ref": "LoginFunction"}}]},
    }

    carried = build_document(changed)["resources"]["Resources"]["AuditQueue"]

    assert carried["Properties"]["Tags"][0]["Value"] == {"Ref": "LoginFunctionLambdaFunction"}


def test_given_an_event_type_osls_output_does_not_cover_then_generation_fails_naming_it(
    sam: dict[str, Any],
) -> None:
    topic = {"Type": "SNS", "Properties": {"Topic": {"Ref": "AlarmTopic"}}}
    changed = _with_function(sam, "DrainFunction", Events={"Drain": topic})

    with pytest.raises(GeneratorError, match=r"DrainFunction.*SNS|SNS.*DrainFunction"):
        build_document(changed)


def test_given_an_sqs_event_then_osls_gets_its_queue_batch_and_partial_batch_responses(
    document: Document,
) -> None:
    [event] = document["functions"]["WebhookDeliveryFunction"]["events"]

    assert event["sqs"]["arn"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert event["sqs"]["batchSize"] == 10
    assert event["sqs"]["functionResponseType"] == "ReportBatchItemFailures"


def test_given_resources_invoking_sam_aliases_then_they_invoke_the_function_osls_events_invoke(
    sam: dict[str, Any], document: Document
) -> None:
    resources = sam["Resources"]
    assert resources["KeyRotationPermission"]["Properties"]["FunctionName"] == {
        "Ref": "KeyRotationFunction.Alias"
    }

    # SnapStart is off: osls makes no alias, and its events invoke the function itself.
    invoked = {"Fn::GetAtt": ["KeyRotationFunctionLambdaFunction", "Arn"]}
    carried = document["resources"]["Resources"]
    assert carried["KeyRotationPermission"]["Properties"]["FunctionName"] == invoked
    assert carried["SigningKeyRotationSchedule"]["Properties"]["RotationLambdaARN"] == invoked
    assert carried["SigningKeyRotationSchedule"]["DependsOn"] == [
        "KeyRotationPermission",
        "KeyRotationFunctionLogGroup",
    ]
    authorizer = document["provider"]["httpApi"]["authorizers"]["JwtAuthorizer"]
    assert authorizer["functionName"] == "AuthorizerFunction"


def test_given_snapstart_switched_by_a_parameter_then_alias_references_follow_it_at_package_time(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    changed["Parameters"]["SnapStart"] = {
        "Type": "String",
        "AllowedValues": ["true", "false"],
        "Default": "false",
    }
    changed["Conditions"]["UseSnapStart"] = {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    changed["Globals"]["Function"]["SnapStart"] = {
        "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
    }

    document = build_document(changed)

    assert document["functions"]["KeyRotationFunction"]["snapStart"] == (
        "${strToBool(${param:SnapStart})}"
    )
    # osls' `snapstart` alias when the SnapStart param is "true", else the function; the
    # permission waits for the alias when there is one.
    permission = document["resources"]["Resources"]["KeyRotationPermission"]
    assert permission["Properties"]["FunctionName"] == (
        "${self:custom.snapStartTargets.KeyRotationFunction.${param:SnapStart}}"
    )
    assert document["custom"]["snapStartTargets"] == {
        "KeyRotationFunction": {
            "true": {"Ref": "KeyRotationFunctionSnapStartLambdaAlias"},
            "false": {"Fn::GetAtt": ["KeyRotationFunctionLambdaFunction", "Arn"]},
        }
    }
    assert permission["DependsOn"] == (
        "${self:custom.snapStartDependsOn.KeyRotationPermission.${param:SnapStart}}"
    )
    assert document["custom"]["snapStartDependsOn"]["KeyRotationPermission"] == {
        "true": ["KeyRotationFunctionSnapStartLambdaAlias"],
        "false": [],
    }
    # osls points its authorizer at its own alias in the same way.
    authorizer = document["provider"]["httpApi"]["authorizers"]["JwtAuthorizer"]
    assert authorizer["functionName"] == "AuthorizerFunction"


def test_given_a_resource_naming_a_sam_alias_in_text_then_generation_fails_instead_of_dangling(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    changed["Resources"]["AliasAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmName": {"Fn::Sub": "${LoginFunctionAliaslive}-errors"}},
    }

    with pytest.raises(GeneratorError, match="LoginFunctionAliaslive, which is the alias"):
        build_document(changed)


def test_given_a_carried_resource_naming_the_traffic_hook_otherwise_then_generation_fails(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    changed["Outputs"]["HookArn"] = {"Value": {"Fn::GetAtt": ["PreTrafficCheckFunction", "Arn"]}}

    with pytest.raises(GeneratorError, match="refers to PreTrafficCheckFunction, which is the"):
        build_document(changed)


def test_given_an_alarm_expression_using_a_hooks_metric_then_generation_fails(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    metrics = changed["Resources"]["BackgroundFunctionThrottlesAlarm"]["Properties"]["Metrics"]
    metrics[0]["Expression"] = "stream + rotation + pretraffic"

    with pytest.raises(GeneratorError, match="an expression uses metric pretraffic"):
        build_document(changed)


def test_given_no_gradual_deployment_then_nothing_is_left_out(sam: dict[str, Any]) -> None:
    changed = copy.deepcopy(sam)
    del changed["Globals"]["Function"]["DeploymentPreference"]
    for function in _functions(changed):
        changed["Resources"][function]["Properties"].pop("DeploymentPreference", None)
    # The hook, now an ordinary function, may no longer name CodeDeploy's application.
    hook = changed["Resources"]["PreTrafficCheckFunction"]["Properties"]
    hook["Policies"][0]["Statement"].pop(0)

    document = build_document(changed)

    assert "PreTrafficCheckFunction" in document["functions"]
    assert not {"notCarriedFromTemplate", "leftOutFromTemplate"} & set(document.get("custom", {}))
    kinds = {r["Type"] for r in document["resources"]["Resources"].values()}
    assert not {k for k in kinds if k.startswith("AWS::CodeDeploy::")}


def test_given_function_code_outside_the_staged_directory_then_generation_fails(
    sam: dict[str, Any],
) -> None:
    changed = _with_function(sam, "ElsewhereFunction", CodeUri="elsewhere/")

    with pytest.raises(GeneratorError, match="ElsewhereFunction: code other than"):
        build_document(changed)


def test_given_a_layer_sam_builds_other_than_through_the_makefile_then_generation_fails(
    sam: dict[str, Any],
) -> None:
    changed = copy.deepcopy(sam)
    changed["Resources"]["DependenciesLayer"]["Metadata"] = {"BuildMethod": "python3.13"}

    with pytest.raises(GeneratorError, match=r"DependenciesLayer: `sam build` builds this layer"):
        build_document(changed)


# ------------------------------------------------------------------------------ renames


def test_given_references_in_every_form_when_renamed_then_each_names_the_new_resource() -> None:
    renames = Renames(ids={"Fn": "FnLambdaFunction"}, gone={"FnAlias": "is gone"})
    value = {
        "A": {"Fn::GetAtt": ["Fn", "Arn"]},
        "B": {"Fn::GetAtt": "Fn.Arn"},
        "C": {"Fn::Sub": "/aws/lambda/${Fn} ${Fn.Arn} ${AWS::Region} ${Other} ${!Fn}"},
        "D": {"Fn::Sub": ["${Fn}-${Fn2}", {"Fn2": {"Ref": "Fn"}}]},
        "DependsOn": ["Fn", "Other"],
    }
    value = {"Wrapper": value, "DependsOn": "Fn"}

    renamed = renames.apply(value, "test")

    inner = renamed["Wrapper"]
    assert renamed["DependsOn"] == "FnLambdaFunction"
    assert inner["DependsOn"] == ["FnLambdaFunction", "Other"]
    assert inner["A"] == inner["B"] == {"Fn::GetAtt": ["FnLambdaFunction", "Arn"]}
    assert inner["C"] == {
        "Fn::Sub": (
            "/aws/lambda/${FnLambdaFunction} ${FnLambdaFunction.Arn} ${AWS::Region} ${Other} ${!Fn}"
        )
    }
    assert inner["D"] == {
        "Fn::Sub": ["${FnLambdaFunction}-${Fn2}", {"Fn2": {"Ref": "FnLambdaFunction"}}]
    }
    with pytest.raises(GeneratorError, match="test refers to FnAlias, which is gone"):
        renames.apply({"Fn::Sub": "${FnAlias}"}, "test")
