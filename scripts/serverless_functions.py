"""A Lambda function of the translated template, and its events, in serverless.yml's shape.

Input is CloudFormation as aws-sam-translator produced it from template.yaml, so Globals are
merged, the default authorizer is applied per route and the stream mappings carry every setting
SAM passes to Lambda. Each property maps to the key osls compiles back into the same
CloudFormation property; one that osls has no key for stays CloudFormation, as an extension of the
function resource osls generates (`extra`). Nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scripts.serverless_naming import GeneratorError, Renames

# Simple properties: CloudFormation name -> osls key.
_SCALARS = {
    "Handler": "handler",
    "Runtime": "runtime",
    "MemorySize": "memorySize",
    "Timeout": "timeout",
    "Description": "description",
    "ReservedConcurrentExecutions": "reservedConcurrency",
    "KmsKeyArn": "kmsKeyArn",
}
_LOGGING = {
    "LogFormat": "logFormat",
    "ApplicationLogLevel": "applicationLogLevel",
    "SystemLogLevel": "systemLogLevel",
    "LogGroup": "logGroup",
}
# Stream mapping properties: CloudFormation name -> osls `stream` key (lib/plugins/aws/package/
# compile/events/stream.js compiles each back to the same property).
_STREAM = {
    "EventSourceArn": "arn",
    "StartingPosition": "startingPosition",
    "StartingPositionTimestamp": "startingPositionTimestamp",
    "BatchSize": "batchSize",
    "MaximumBatchingWindowInSeconds": "batchWindow",
    "ParallelizationFactor": "parallelizationFactor",
    "MaximumRetryAttempts": "maximumRetryAttempts",
    "BisectBatchOnFunctionError": "bisectBatchOnFunctionError",
    "MaximumRecordAgeInSeconds": "maximumRecordAgeInSeconds",
    "TumblingWindowInSeconds": "tumblingWindowInSeconds",
    "Enabled": "enabled",
}
# Lambda's default for DynamoDB and Kinesis; osls would write 10 when the key is missing.
STREAM_DEFAULT_BATCH_SIZE = 100
SAM_TAG = "lambda:createdBy"
_INTEGRATION_TARGET = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}/invocations")


@dataclass
class ServerlessFunction:
    """`config` goes under `functions:`; `extra` are CloudFormation properties osls cannot set,
    merged into its function resource through `resources.extensions`."""

    config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def snap_start(value: Any, conditions: dict[str, Any]) -> bool | str | None:
    """osls' `snapStart` for a `SnapStart` property: a boolean osls must know while compiling (it
    then points the events at an alias too), possibly conditional on a "true"/"false" parameter."""
    apply_on = value.get("ApplyOn")
    if apply_on in ("PublishedVersions", "None"):
        return True if apply_on == "PublishedVersions" else None
    if isinstance(apply_on, dict) and list(apply_on) == ["Fn::If"]:
        condition, when_true, when_false = apply_on["Fn::If"]
        test = conditions.get(condition, {}).get("Fn::Equals")
        if (when_true, when_false) == ("PublishedVersions", "None") and test:
            references = [side["Ref"] for side in test if isinstance(side, dict) and "Ref" in side]
            if len(references) == 1 and "true" in test:
                return f"${{strToBool(${{param:{references[0]}}})}}"
    raise GeneratorError(f"SnapStart {value!r} is not a constant or an Equals-'true' parameter")


def _tags(value: list[dict[str, Any]]) -> dict[str, Any]:
    tags = {tag["Key"]: tag["Value"] for tag in value if tag["Key"] != SAM_TAG}
    return {"tags": tags} if tags else {}


# Structured properties: CloudFormation name -> the osls settings it becomes.
_STRUCTURED: dict[str, Callable[[Any], dict[str, Any]]] = {
    "Architectures": lambda value: {"architecture": value[0]} if len(value) == 1 else {},
    "Environment": lambda value: {"environment": value.get("Variables", {})},
    "Layers": lambda value: {"layers": value},
    "TracingConfig": lambda value: {"tracing": value["Mode"]},
    "EphemeralStorage": lambda value: {"ephemeralStorageSize": value["Size"]},
    "Tags": _tags,
    "Code": lambda value: {},  # the package: see `package` in serverless.yml
}


def function_config(
    logical_id: str,
    properties: dict[str, Any],
    renames: Renames,
    conditions: dict[str, Any],
) -> ServerlessFunction:
    """``properties`` (an AWS::Lambda::Function's) as an osls function, references renamed."""
    where = f"function {logical_id}"
    config: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, written in properties.items():
        value = renames.apply(written, where)
        if name in _SCALARS:
            config[_SCALARS[name]] = value
        elif name in _STRUCTURED:
            config.update(_STRUCTURED[name](value))
        elif name == "LoggingConfig" and all(isinstance(v, str) for v in value.values()):
            # osls' `logs` takes literals only: a `Ref` to the template's log group stays `extra`.
            config["logs"] = {_LOGGING[k]: v for k, v in value.items()}
        elif name == "Role":
            config["role"] = _role(value, where)
        elif name == "SnapStart":
            enabled = snap_start(value, conditions)
            if enabled is not None:
                config["snapStart"] = enabled
        else:
            extra[name] = value
    if "Architectures" in properties and "architecture" not in config:
        raise GeneratorError(f"{where}: osls builds for one architecture")
    # template.yaml owns every log group (retention, encryption): osls must not make its own.
    config["disableLogs"] = True
    return ServerlessFunction(config, extra)


def _role(value: Any, where: str) -> Any:
    """A role in the stack by its logical ID (osls adds the GetAtt and the DependsOn), or as is."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return value["Fn::GetAtt"][0]
    if isinstance(value, str) and value.startswith("arn:"):
        return value
    raise GeneratorError(f"{where}: role {value!r} is neither a role of the stack nor an ARN")


def integration_target(operation: dict[str, Any], aliases: dict[str, str]) -> str:
    """The function a route of the translated OpenAPI body invokes (directly or by its alias)."""
    uri = json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
    match = _INTEGRATION_TARGET.search(uri)
    if not match:
        raise GeneratorError(f"route integration {uri} does not invoke a function of the stack")
    return aliases.get(match.group(1), match.group(1))


def route_event(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """An `httpApi` event for one operation of the translated OpenAPI body."""
    integration = operation["x-amazon-apigateway-integration"]
    unsupported = set(integration) - {"httpMethod", "type", "uri", "payloadFormatVersion"}
    if integration.get("type") != "aws_proxy" or unsupported:
        raise GeneratorError(f"{method.upper()} {path}: integration {integration} is not plain")
    event: dict[str, Any] = {
        "method": "ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
        "path": path,
    }
    for requirement in operation.get("security", []):
        for name, scopes in requirement.items():
            if name == "NONE":
                continue
            event["authorizer"] = {"name": name, **({"scopes": scopes} if scopes else {})}
    return {"httpApi": event}


def stream_event(
    mapping: dict[str, Any], stream_type: str, on_failure_type: str | None, renames: Renames
) -> dict[str, Any]:
    """A `stream` event for an AWS::Lambda::EventSourceMapping's properties."""
    event: dict[str, Any] = {"type": stream_type.lower()}
    # FunctionName is SAM's alias: osls points the mapping at its own function (or alias).
    settings = {k: v for k, v in mapping.items() if k != "FunctionName"}
    for name, value in renames.apply(settings, "a stream event source mapping").items():
        if name in _STREAM:
            event[_STREAM[name]] = value
        elif name == "FunctionResponseTypes":
            (event["functionResponseType"],) = value
        elif name == "FilterCriteria":
            event["filterPatterns"] = [json.loads(f["Pattern"]) for f in value["Filters"]]
        elif name == "DestinationConfig":
            destination = value["OnFailure"]["Destination"]
            if on_failure_type is None:
                raise GeneratorError(f"on-failure destination {destination} has no type")
            event["destinations"] = {
                "onFailure": {"arn": destination, "type": on_failure_type.lower()}
            }
        else:
            raise GeneratorError(f"stream mapping property {name} has no osls equivalent")
    event.setdefault("batchSize", STREAM_DEFAULT_BATCH_SIZE)
    return {"stream": event}


_SQS = {
    "EventSourceArn": "arn",
    "BatchSize": "batchSize",
    "MaximumBatchingWindowInSeconds": "maximumBatchingWindow",
    "Enabled": "enabled",
}


def sqs_event(mapping: dict[str, Any], renames: Renames) -> dict[str, Any]:
    """An `sqs` event for an AWS::Lambda::EventSourceMapping's properties on a queue."""
    event: dict[str, Any] = {}
    settings = {k: v for k, v in mapping.items() if k != "FunctionName"}
    for name, value in renames.apply(settings, "an SQS event source mapping").items():
        if name in _SQS:
            event[_SQS[name]] = value
        elif name == "FunctionResponseTypes":
            (event["functionResponseType"],) = value
        else:
            raise GeneratorError(f"SQS mapping property {name} has no osls equivalent")
    return {"sqs": event}
