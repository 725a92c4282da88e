"""Creates in moto what `template.yaml` declares, with the physical ids CloudFormation would give.

Tests call :func:`provision_stack` in-process under ``mock_aws`` (``endpoint_url=None``), and
``userflow local`` calls it against its embedded moto server. Resources that moto cannot run or
that have no local meaning (functions, IAM, alarms, the API, log groups...) are skipped but still
listed, so that Ref/GetAtt on them resolve and operator commands see the whole stack.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from userflow.local import ses
from userflow.local.template import ACCOUNT_ID, Resolver, Template, load_template, references
from userflow.stack import Stack

LOCAL_STACK_NAME = "userflow-local"
LOCAL_API_ID = "local"
DEFAULT_REGION = "us-east-1"

Record = dict[str, str]
"""What the stack records per resource: ``physical_id``, ``type``, ``arn``."""


class _Provisioner:
    """Creates one resource per call, in dependency order, feeding the resolver as it goes."""

    def __init__(
        self, template: Template, stack_name: str, region: str, endpoint_url: str | None
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.resolver = Resolver(template, stack_name=stack_name, region=region)
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self.records: dict[str, Record] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(  # type: ignore[call-overload]
                service, endpoint_url=self.endpoint_url
            )
        return self._clients[service]

    def name(self, logical_id: str, explicit: Any = None, limit: int = 80) -> str:
        """An explicit name, or a deterministic one from the stack name and logical id."""
        return str(explicit) if explicit else f"{self.stack_name}-{logical_id}"[:limit]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def record(self, logical_id: str, physical_id: str, arn: str = "", **attributes: str) -> None:
        resource_type = self.template.resources[logical_id]["Type"]
        self.records[logical_id] = {"physical_id": physical_id, "type": resource_type, "arn": arn}
        self.resolver.refs[logical_id] = physical_id
        self.resolver.attributes[logical_id] = {"Arn": arn, **attributes}

    def run(self) -> dict[str, Record]:
        for logical_id in self._order():
            if not self.resolver.resource_enabled(logical_id):
                continue
            resource = self.template.resources[logical_id]
            properties = resource.get("Properties", {})
            if resource["Type"] in _CREATORS:
                _CREATORS[resource["Type"]](self, logical_id, self.resolver.resolve(properties))
            else:
                # Not created, so its properties are never resolved (they may name other
                # skipped resources); only its name is recorded.
                _named(self, logical_id, properties)
        return self.records

    def _order(self) -> list[str]:
        resources = self.template.resources
        pending = {
            logical_id: references(resource.get("Properties", {})) & resources.keys()
            for logical_id, resource in resources.items()
        }
        # Functions and APIs are only named, never created: record them first so that anything
        # may refer to them (e.g. an authorizer's FunctionArn) without a dependency cycle.
        order = [k for k, v in resources.items() if v["Type"] in _NAMED_ONLY]
        done = set(order)
        while len(done) < len(resources):
            ready = [k for k, deps in pending.items() if k not in done and deps <= done]
            if not ready:
                cycle = sorted(set(resources) - done)
                raise ValueError(f"circular references between {cycle}")
            order.extend(ready)
            done.update(ready)
        return order


def _named(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    resource_type = p.template.resources[logical_id]["Type"]
    if resource_type == "AWS::Serverless::HttpApi":
        p.record(logical_id, LOCAL_API_ID, p.arn("execute-api", LOCAL_API_ID), ApiId=LOCAL_API_ID)
    elif resource_type in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        explicit = p.resolver.resolve(properties.get("FunctionName"))
        name = p.name(logical_id, explicit, limit=64)
        p.record(logical_id, name, p.arn("lambda", f"function:{name}"))
    else:
        name = p.name(logical_id)
        p.record(logical_id, name, "", Name=name)


def _table(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("TableName"), limit=255)
    dynamodb = p.client("dynamodb")
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    for key in ("ProvisionedThroughput", "LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if key in properties:
            arguments[key] = properties[key]
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    if arguments["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in arguments:
        arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    description = dynamodb.create_table(**arguments)["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    stream_arn = description.get("LatestStreamArn", "")
    p.record(logical_id, name, description["TableArn"], StreamArn=stream_arn)
    p.records[logical_id]["stream_arn"] = stream_arn


def _queue(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    fifo = bool(properties.get("FifoQueue"))
    default = p.name(logical_id, limit=75) + (".fifo" if fifo else "")
    name = str(properties.get("QueueName") or default)
    attributes = {
        key: json.dumps(value)
        if isinstance(value, dict)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in properties.items()
        if key not in ("QueueName", "Tags")
    }
    url = p.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    p.record(logical_id, url, p.arn("sqs", name), QueueName=name, QueueUrl=url)


def _event_bus(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = str(properties["Name"])
    arn = p.client("events").create_event_bus(Name=name)["EventBusArn"]
    p.record(logical_id, name, arn, Name=name)


def _rule(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    events = p.client("events")
    name = p.name(logical_id, properties.get("Name"), limit=64)
    bus = properties.get("EventBusName", "default")
    bus_name = bus.rsplit("/", 1)[-1] if str(bus).startswith("arn:") else bus
    arguments: dict[str, Any] = {
        "Name": name,
        "EventBusName": bus_name,
        "State": properties.get("State", "ENABLED"),
    }
    if "EventPattern" in properties:
        pattern = properties["EventPattern"]
        arguments["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    for key in ("ScheduleExpression", "Description"):
        if key in properties:
            arguments[key] = properties[key]
    arn = events.put_rule(**arguments)["RuleArn"]
    # Moto keeps each target's DeadLetterConfig and RetryPolicy (list_targets_by_rule returns
    # them) but never delivers to the DLQ; the DLQ CLI reads them from there as on AWS.
    if properties.get("Targets"):
        events.put_targets(Rule=name, EventBusName=bus_name, Targets=properties["Targets"])
    # CloudFormation's Ref of a rule on a custom bus is "<bus>|<rule>".
    physical_id = name if bus_name == "default" else f"{bus_name}|{name}"
    p.record(logical_id, physical_id, arn)


def _archive(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("ArchiveName"), limit=48)
    arguments: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": properties["SourceArn"]}
    for key in ("Description", "RetentionDays"):
        if key in properties:
            arguments[key] = properties[key]
    if "EventPattern" in properties:
        pattern = properties["EventPattern"]
        arguments["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    arn = p.client("events").create_archive(**arguments)["ArchiveArn"]
    p.record(logical_id, name, arn, ArchiveName=name)


def generate_secret_string(spec: dict[str, Any]) -> str:
    """A random secret as Secrets Manager's GenerateSecretString would make it."""
    alphabet = ""
    if not spec.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not spec.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not spec.get("ExcludeNumbers"):
        alphabet += string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    if spec.get("IncludeSpace"):
        alphabet += " "
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _secret(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("Name"), limit=512)
    arguments: dict[str, Any] = {"Name": name}
    # Neither value given: CloudFormation creates the secret empty (a later step writes it).
    if "SecretString" in properties:
        arguments["SecretString"] = str(properties["SecretString"])
    elif "GenerateSecretString" in properties:
        arguments["SecretString"] = generate_secret_string(properties["GenerateSecretString"])
    if "Description" in properties:
        arguments["Description"] = properties["Description"]
    arn = p.client("secretsmanager").create_secret(**arguments)["ARN"]
    p.record(logical_id, arn, arn, Id=arn)


def _parameter(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("Name"), limit=1011)
    kind = properties.get("Type", "String")
    value = str(properties["Value"])
    p.client("ssm").put_parameter(Name=name, Type=kind, Value=value, Overwrite=True)
    p.record(
        logical_id, name, p.arn("ssm", f"parameter/{name.lstrip('/')}"), Type=kind, Value=value
    )


def _topic(p: _Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("TopicName"), limit=256)
    arn = p.client("sns").create_topic(Name=name)["TopicArn"]
    p.record(logical_id, arn, arn, TopicArn=arn, TopicName=name)


_NAMED_ONLY = {"AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Serverless::HttpApi"}
_CREATORS: dict[str, Callable[[_Provisioner, str, dict[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::Events::Archive": _archive,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SSM::Parameter": _parameter,
    "AWS::SNS::Topic": _topic,
    **ses.CREATORS,
}


def provision_stack(
    template_path: Path,
    *,
    stack_name: str = LOCAL_STACK_NAME,
    region: str = DEFAULT_REGION,
    endpoint_url: str | None = None,
) -> Stack:
    """Creates the template's resources; returns the stack with every resource's physical id."""
    template = load_template(template_path)
    records = _Provisioner(template, stack_name, region, endpoint_url).run()
    return Stack(
        name=stack_name,
        region=region,
        endpoint_url=endpoint_url,
        resources=records,
        local=endpoint_url is not None,
    )


def stack_resolver(template: Template, stack: Stack) -> Resolver:
    """A resolver that knows the provisioned stack's Ref/GetAtt values."""
    region = stack.region or DEFAULT_REGION
    resolver = Resolver(template, stack_name=stack.name, region=region)
    for logical_id, record in stack.resources.items():
        resolver.refs[logical_id] = record["physical_id"]
        resolver.attributes[logical_id] = _attributes(record)
    return resolver


def _attributes(record: Record) -> dict[str, str]:
    """GetAtt values derivable from a stack record (enough for function environments)."""
    physical_id, arn = record["physical_id"], record.get("arn", "")
    attributes = {"Arn": arn, "Name": physical_id, "Id": physical_id}
    if record["type"] == "AWS::SQS::Queue":
        attributes |= {"QueueUrl": physical_id, "QueueName": physical_id.rsplit("/", 1)[-1]}
    if record["type"] == "AWS::DynamoDB::Table":
        attributes["StreamArn"] = record.get("stream_arn", "")
    if record["type"] == "AWS::SNS::Topic":
        attributes |= {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]}
    return attributes


def function_environment(template: Template, logical_id: str, stack: Stack) -> dict[str, str]:
    """The resolved environment variables of a function, ``Globals`` merged in."""
    resolver = stack_resolver(template, stack)
    variables = template.function_properties(logical_id).get("Environment", {}).get("Variables", {})
    resolved = resolver.resolve(variables)
    return {name: _env_value(value) for name, value in resolved.items()}


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
