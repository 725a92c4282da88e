"""Creates the template's messaging resources in moto: queues and their policies, buses, rules,
archives and topics."""

from __future__ import annotations

import json
from typing import Any

from samlocal.provision.engine import Creator, Provisioner, named


def _queue(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
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
    tags = {str(tag["Key"]): str(tag["Value"]) for tag in properties.get("Tags", [])}
    url = p.client("sqs").create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
    p.record(logical_id, url, p.arn("sqs", name), QueueName=name, QueueUrl=url)


def _queue_policy(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    """Sets the policy on each queue, as CloudFormation does (the queues' ``Policy`` attribute)."""
    policy = json.dumps(properties["PolicyDocument"])
    for url in properties["Queues"]:
        p.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    named(p, logical_id, properties)


def _event_bus(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = str(properties["Name"])
    arn = p.client("events").create_event_bus(Name=name)["EventBusArn"]
    p.record(logical_id, name, arn, Name=name)


def _rule(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
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


def _archive(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
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


def _topic(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("TopicName"), limit=256)
    arn = p.client("sns").create_topic(Name=name)["TopicArn"]
    p.record(logical_id, arn, arn, TopicArn=arn, TopicName=name)


CREATORS: dict[str, Creator] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::Events::Archive": _archive,
    "AWS::SNS::Topic": _topic,
}
