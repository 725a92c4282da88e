"""The provisioning engine: creates resources in dependency order, as CloudFormation names them.

Each resource type it can create has a *creator* (``data``, ``messaging``, ``samlocal.ses``);
every other resource is only *named*, so that Ref/GetAtt on it resolve and tools see the whole
stack. ``stacks.provision_stack`` is the entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from samlocal.intrinsics import ACCOUNT_ID, Resolver, references
from samlocal.provision.clients import local_client
from samlocal.provision.stack import Record
from samlocal.template import Template

LOCAL_API_ID = "local"
_NAMED_ONLY = {"AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Serverless::HttpApi"}


class Provisioner:
    """Creates one resource per call, in dependency order, feeding the resolver as it goes."""

    def __init__(
        self,
        template: Template,
        creators: dict[str, Creator],
        *,
        stack_name: str,
        region: str,
        endpoint_url: str | None,
        parameters: dict[str, Any],
    ) -> None:
        self.template = template
        self.creators = creators
        self.stack_name = stack_name
        self.region = region
        self.resolver = Resolver(
            template, stack_name=stack_name, region=region, parameters=dict(parameters)
        )
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self.records: dict[str, Record] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(
                service, region=self.region, endpoint_url=self.endpoint_url
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
            if resource["Type"] in self.creators:
                self.creators[resource["Type"]](self, logical_id, self.resolver.resolve(properties))
            else:
                # Not created, so its properties are never resolved (they may name other
                # skipped resources); only its name is recorded.
                named(self, logical_id, properties)
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


def named(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
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


Creator = Callable[[Provisioner, str, dict[str, Any]], None]
"""Creates one resource from its resolved properties and records it on the provisioner."""
