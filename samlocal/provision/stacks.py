"""Creates in moto what a template declares, with the physical ids CloudFormation would give.

:func:`provision_stack` is the emulator's one provisioning entry point: tests call it in-process
under ``mock_aws`` (``endpoint_url=None``), the runtime against its embedded moto server. To
provision a new resource type, add a module with a ``CREATORS`` dict (resource type → creator,
see ``engine.Creator``) and merge it into :data:`CREATORS` below; steps that need the whole
stack (an application's keys, mirrors, verifications) are the application's own hooks, run after
this (``samlocal.runtime.RuntimeOptions.on_provisioned``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from samlocal.intrinsics import Resolver
from samlocal.provision import data, messaging, ses
from samlocal.provision.engine import Creator, Provisioner
from samlocal.provision.stack import ProvisionedStack, Record
from samlocal.template import Template, load_template

DEFAULT_STACK_NAME = "samlocal"
DEFAULT_REGION = "us-east-1"
CREATORS: dict[str, Creator] = {
    **data.CREATORS,
    **messaging.CREATORS,
    **ses.CREATORS,
}


def provision_stack(
    template_path: Path,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = DEFAULT_REGION,
    endpoint_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> ProvisionedStack:
    """Creates the template's resources; returns the stack with every resource's physical id.
    ``parameters``: values of template parameters (the others keep their defaults)."""
    template = load_template(template_path)
    given = dict(parameters or {})
    records = Provisioner(
        template,
        CREATORS,
        stack_name=stack_name,
        region=region,
        endpoint_url=endpoint_url,
        parameters=given,
    ).run()
    return ProvisionedStack(
        name=stack_name,
        region=region,
        endpoint_url=endpoint_url,
        resources=records,
        parameters=given,
        template=str(template_path),
    )


def stack_resolver(template: Template, stack: ProvisionedStack) -> Resolver:
    """A resolver that knows the provisioned stack's parameters and Ref/GetAtt values."""
    region = stack.region or DEFAULT_REGION
    resolver = Resolver(
        template, stack_name=stack.name, region=region, parameters=dict(stack.parameters)
    )
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


def function_environment(
    template: Template, logical_id: str, stack: ProvisionedStack
) -> dict[str, str]:
    """The resolved environment variables of a function, ``Globals`` merged in."""
    resolver = stack_resolver(template, stack)
    variables = template.function_properties(logical_id).get("Environment", {}).get("Variables", {})
    resolved = resolver.resolve(variables)
    return {name: _env_value(value) for name, value in resolved.items()}


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
