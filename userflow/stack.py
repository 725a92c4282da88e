"""Finds a stack's resources, on AWS (CloudFormation) or on the running local stack.

Every operator command takes ``--stack-name/--endpoint-url/--region`` as AWS tools do; with none of
them and a running ``userflow local``, the local stack's recorded state is used.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

DEFAULT_STACK_NAME = "userflow-staging"


def state_file() -> Path:
    base = os.environ.get("USERFLOW_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "userflow"
    )
    return Path(base) / "local.json"


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack-name", help="CloudFormation stack (default: the local stack)")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: the local stack's)")
    parser.add_argument("--region", help="AWS region")


@dataclass
class Stack:
    """Physical ids of a stack's resources by logical id, and how to reach its services."""

    name: str
    region: str | None
    endpoint_url: str | None
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    api_url: str | None = None

    def client(self, service: str) -> Any:
        return boto3.session.Session(region_name=self.region).client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint_url
        )

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id]["physical_id"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, str]]:
        return {k: v for k, v in self.resources.items() if v.get("type") == resource_type}


def resolve_stack(args: argparse.Namespace) -> Stack:
    if not args.stack_name and not args.endpoint_url and state_file().exists():
        state = json.loads(state_file().read_text())
        return Stack(
            name=state["stack_name"],
            region=args.region or state["region"],
            endpoint_url=state["endpoint_url"],
            resources=state["resources"],
            api_url=state["api_url"],
        )
    stack = Stack(
        name=args.stack_name or DEFAULT_STACK_NAME,
        region=args.region,
        endpoint_url=args.endpoint_url,
    )
    cloudformation = stack.client("cloudformation")
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack.name):
        for summary in page["StackResourceSummaries"]:
            stack.resources[summary["LogicalResourceId"]] = {
                "physical_id": summary.get("PhysicalResourceId", ""),
                "type": summary["ResourceType"],
            }
    return stack
