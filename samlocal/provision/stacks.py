"""Creates in moto what `template.yaml` declares, with the physical ids CloudFormation would give.

:func:`provision_stack` is the local runtime's one provisioning entry point: tests call it
in-process under ``mock_aws`` (``endpoint_url=None``), ``userflow local`` against its embedded
moto server. To provision a new resource type, add a module with a ``CREATORS`` dict (resource
type → creator, see ``provisioner.Creator``) and merge it into :data:`CREATORS` below; steps that
need the whole stack (keys, mirrors, verifications) belong in ``bootstrap.py``, run after this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samlocal.provision import data as provision_data
from samlocal.provision import messaging as provision_messaging
from samlocal.provision.engine import Creator, Provisioner, Record
from samlocal.ses import resources as ses
from samlocal.template import Resolver, Template, load_template
from userflow.stack import Stack

LOCAL_STACK_NAME = "userflow-local"
LOCAL_PARAMETERS = {"Stage": "local"}
"""Parameter values of the local stack: it names itself ``local`` (bus, token issuer), never a
deployed stage, whatever the template's ``AllowedValues`` (this is not CloudFormation)."""
DEFAULT_REGION = "us-east-1"
CREATORS: dict[str, Creator] = {
    **provision_data.CREATORS,
    **provision_messaging.CREATORS,
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
    records = Provisioner(
        template,
        CREATORS,
        stack_name=stack_name,
        region=region,
        endpoint_url=endpoint_url,
        parameters=LOCAL_PARAMETERS,
    ).run()
    return Stack(
        name=stack_name,
        region=region,
        endpoint_url=endpoint_url,
        resources=records,
        local=endpoint_url is not None,
        template=str(template_path),
    )


def stack_resolver(template: Template, stack: Stack) -> Resolver:
    """A resolver that knows the provisioned stack's Ref/GetAtt values."""
    region = stack.region or DEFAULT_REGION
    resolver = Resolver(
        template, stack_name=stack.name, region=region, parameters=dict(LOCAL_PARAMETERS)
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
