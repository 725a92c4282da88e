"""Generates serverless.yml from template.yaml, for teams deploying with the Serverless Framework.

template.yaml stays the one source (docs/deploy.md, "Deploying with the Serverless Framework").
Functions, their `httpApi` and `stream` events, the HTTP API's authorizer and the layers become
osls constructs (scripts/serverless_functions.py); each function runs with its own IAM role,
the one SAM derives from the template (a plain CloudFormation role, so no plugin is needed);
everything else stays CloudFormation under `resources` (scripts/serverless_stack.py sorts them),
save the `Rules`, which osls' `resources` refuses: `custom.cloudFormationRules` holds them and
the repository's own plugin (scripts/osls_rules.cjs) adds them to the packaged template.
SAM's gradual deployment is not carried, nor what exists only for it (scripts/
serverless_gradual.py); `custom` lists what is left out and why.
Template parameters stay CloudFormation parameters, so CloudFormation still validates them, with
defaults taken from osls params: the template's defaults, samconfig.toml's overrides per stage,
`--param "AlarmEmail=..."` per deploy; `Stage` is the osls stage. osls uploads to the artifacts
bucket of the stack's bootstrap stack (deploy/bootstrap.yaml), as SAM does, never to a bucket of
its own. `make serverless` rewrites the file; a test fails on drift.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from scripts import sam_template
from scripts.bootstrap_outputs import ARTIFACTS_BUCKET
from scripts.bootstrap_outputs import SUFFIX as BOOTSTRAP_SUFFIX
from scripts.serverless_aliases import alias_values, depends_on
from scripts.serverless_artifacts import STAGED_CODE, package_patterns
from scripts.serverless_artifacts import layers as stack_layers
from scripts.serverless_functions import (
    function_config,
    integration_target,
    route_event,
    snap_start,
    sqs_event,
    stream_event,
)
from scripts.serverless_gradual import leave_out_gradual_deployment, not_carried_record
from scripts.serverless_http_api import http_api_settings
from scripts.serverless_naming import GeneratorError
from scripts.serverless_params import parameters as stack_parameters
from scripts.serverless_params import stage_params
from scripts.serverless_provider import provider_defaults
from scripts.serverless_stack import SortedStack, sort_stack

ROOT = sam_template.ROOT
OUTPUT = ROOT / "serverless.yml"
SAMCONFIG = ROOT / "samconfig.toml"
SERVICE = "userflow"
DEFAULT_STAGE = "staging"
STREAM_EVENTS = {"DynamoDB", "Kinesis"}
# The repository's osls plugin that adds `custom.cloudFormationRules` to the packaged template.
RULES_PLUGIN = "./scripts/osls_rules.cjs"
RULES = "cloudFormationRules"
# The artifacts bucket of the stack's bootstrap stack (deploy/bootstrap.yaml), from its outputs.
DEPLOYMENT_BUCKET = f"${{cf:${{self:service}}-${{sls:stage}}{BOOTSTRAP_SUFFIX}.{ARTIFACTS_BUCKET}}}"
# The order of a function's settings in serverless.yml: what it runs, then how, then its events.
_FUNCTION_KEYS = [
    "handler",
    "description",
    "runtime",
    "architecture",
    "memorySize",
    "timeout",
    "reservedConcurrency",
    "ephemeralStorageSize",
    "tracing",
    "snapStart",
    "role",
    "layers",
    "environment",
    "kmsKeyArn",
    "logs",
    "disableLogs",
    "tags",
    "events",
]
HEADER = """\
# Generated from template.yaml by `make serverless` (scripts/generate_serverless.py): do not edit,
# a test fails when it is stale. Deploy: `make deploy-serverless ENV=staging` (docs/deploy.md).
"""


def _functions(
    stack: SortedStack, provider: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the `functions` section, extensions of the function resources osls generates)."""
    aliases = stack.aliases
    body = stack.resource(stack.http_api)["Properties"]["Body"] if stack.http_api else {}
    conditions = stack.cfn.get("Conditions", {})
    functions: dict[str, Any] = {}
    extensions: dict[str, Any] = {}
    for name in stack.functions:
        properties = dict(stack.resource(name)["Properties"])
        if properties["Code"] != {"S3Bucket": "placeholder-bucket", "S3Key": "code.zip"}:
            raise GeneratorError(f"{name}: code other than Globals' CodeUri needs its own package")
        converted = function_config(name, properties, stack.renames, conditions)
        config = {
            key: value
            for key, value in converted.config.items()
            if key != "environment" and provider.get(key) != value
        }
        shared = provider["environment"]
        own = {
            k: v for k, v in converted.config.get("environment", {}).items() if shared.get(k) != v
        }
        if own:
            config["environment"] = own
        events = list(_events(stack, name, body, aliases))
        if events:
            config["events"] = events
        functions[name] = {key: config[key] for key in sorted(config, key=_FUNCTION_KEYS.index)}
        if converted.extra:
            extensions[stack.renames.ids[name]] = {"Properties": converted.extra}
    return functions, extensions


def _events(stack: SortedStack, name: str, body: dict[str, Any], aliases: dict[str, str]) -> Any:
    events = stack.sam["Resources"][name].get("Properties", {}).get("Events", {})
    for event_name, event in events.items():
        kind, properties = event["Type"], event.get("Properties", {})
        if kind == "HttpApi":
            method = str(properties.get("Method", "ANY")).lower()
            method = "x-amazon-apigateway-any-method" if method == "any" else method
            operation = body["paths"][properties["Path"]][method]
            if integration_target(operation, aliases) != name:
                raise GeneratorError(f"{name}.{event_name}: the route invokes another function")
            yield route_event(method, properties["Path"], operation)
        elif kind in STREAM_EVENTS:
            mapping = stack.resource(f"{name}{event_name}")
            on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Type")
            yield stream_event(mapping["Properties"], kind, on_failure, stack.renames)
        elif kind == "SQS":
            yield sqs_event(stack.resource(f"{name}{event_name}")["Properties"], stack.renames)
        else:
            raise GeneratorError(f"{name}.{event_name}: {kind} events are not generated yet")


def _resources(stack: SortedStack, custom: dict[str, Any]) -> dict[str, Any]:
    """The carried resources; `custom` receives what their references to SAM's aliases need."""
    conditions = stack.cfn.get("Conditions", {})
    snap_starts = {
        name: snap_start(stack.resource(name)["Properties"].get("SnapStart", {}), conditions)
        for name in stack.functions
    }
    switched = alias_values(stack.aliases, snap_starts, stack.renames)
    resources: dict[str, Any] = {}
    for logical_id in stack.cfn["Resources"]:
        if logical_id in stack.carried:
            written = stack.resource(logical_id)
            resource = stack.renames.apply(written, logical_id)
            if logical_id not in stack.sam["Resources"]:
                resource = _plain_role(resource)
            waits = depends_on(
                logical_id,
                written,
                resource,
                aliases=stack.aliases,
                snap_starts=snap_starts,
                switched=switched,
            )
            for key, entries in waits.items():
                custom.setdefault(key, {}).update(entries)
            resources[logical_id] = resource
    return resources


def _plain_role(role: dict[str, Any]) -> dict[str, Any]:
    """A role SAM generated, without SAM's marker tag and with managed policies in any partition."""
    properties = dict(role["Properties"])
    properties["ManagedPolicyArns"] = [
        {"Fn::Sub": arn.replace("arn:aws:", "arn:${AWS::Partition}:", 1)}
        if isinstance(arn, str) and arn.startswith("arn:aws:")
        else arn
        for arn in properties.get("ManagedPolicyArns", [])
    ]
    tags = [tag for tag in properties.pop("Tags", []) if tag.get("Key") != "lambda:createdBy"]
    if tags:
        properties["Tags"] = tags
    return {**role, "Properties": properties}


def build_document(template: dict[str, Any]) -> dict[str, Any]:
    code = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    if code != STAGED_CODE:
        raise GeneratorError(f"Globals.Function.CodeUri is {code!r}, not {STAGED_CODE!r}")
    stack = sort_stack(template)
    left_out = leave_out_gradual_deployment(stack)
    parameters, param_defaults = stack_parameters(stack)
    custom: dict[str, Any] = {}
    carried = _resources(stack, custom)
    defaults = provider_defaults(stack)
    functions, function_extensions = _functions(stack, defaults)
    layers, layer_extensions = stack_layers(stack)
    http_api, api_extensions = http_api_settings(stack)
    provider: dict[str, Any] = {
        "name": "aws",
        "stage": DEFAULT_STAGE,
        "region": "${env:AWS_REGION, env:AWS_DEFAULT_REGION, 'us-east-1'}",
        # Deploys go through change sets, as SAM's do: the deploy role needs no direct stack writes.
        "deploymentMethod": "changesets",
        "deploymentBucket": {"name": DEPLOYMENT_BUCKET},
        # Every deploy publishes a version (kept), as AutoPublishAlias does; osls hashes the
        # whole configuration and the layers' content into it.
        "versionFunctions": True,
        **{k: v for k, v in defaults.items() if k != "tracing"},
    }
    if "tracing" in defaults:
        provider["tracing"] = {"lambda": defaults["tracing"]}
    if http_api:
        provider["httpApi"] = http_api
    cfn = stack.cfn
    resources: dict[str, Any] = {
        "Description": cfn.get("Description", ""),
        "Parameters": parameters,
        "Conditions": stack.renames.apply(cfn.get("Conditions", {}), "Conditions"),
        "Resources": carried,
        "Outputs": stack.renames.apply(cfn.get("Outputs", {}), "Outputs"),
        "extensions": {**function_extensions, **layer_extensions, **api_extensions},
    }
    if "Mappings" in cfn:
        resources["Mappings"] = cfn["Mappings"]
    if "Rules" in cfn:
        custom[RULES] = stack.renames.apply(cfn["Rules"], "Rules")
    document: dict[str, Any] = {
        "service": SERVICE,
        "frameworkVersion": "3",
        "configValidationMode": "error",
        **({"plugins": [RULES_PLUGIN]} if RULES in custom else {}),
        "params": {"default": param_defaults, **stage_params(SAMCONFIG.read_text())},
        "provider": provider,
        "package": {"patterns": package_patterns()},
        "functions": functions,
        "layers": layers,
        "resources": {k: v for k, v in resources.items() if v},
    }
    custom.update(not_carried_record(stack, left_out))
    if custom:
        document["custom"] = dict(sorted(custom.items()))
    return document


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the dashboard body) as literal blocks; nothing folded."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(template: dict[str, Any] | None = None) -> str:
    document = build_document(sam_template.load() if template is None else template)
    return HEADER + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if serverless.yml is stale")
    args = parser.parse_args(argv)
    try:
        rendered = render()
    except GeneratorError as error:
        print(f"generate_serverless: {error}", file=sys.stderr)
        return 2
    if args.check:
        if OUTPUT.read_text() != rendered:
            print("serverless.yml is stale: run `make serverless`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(rendered)
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
