"""Finds a stack's resources, on AWS (CloudFormation) or on the running local stack.

Every operator command takes ``--stack-name/--endpoint-url/--region`` as AWS tools do; with none of
them and a running ``userflow local``, the local stack's recorded state is used, and with no local
stack running, ``userflow-staging`` on AWS.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from adapters.aws import ClientFactory, ServiceName

DEFAULT_STACK_NAME = "userflow-staging"


def state_file() -> Path:
    base = os.environ.get("USERFLOW_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "userflow"
    )
    return Path(base) / "local.json"


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack-name",
        help=f"CloudFormation stack (default: the running local stack, else {DEFAULT_STACK_NAME})",
    )
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
    local: bool = False

    client: ClientFactory = field(init=False, repr=False, compare=False)
    """``stack.client("sqs")``: a client of the stack's endpoint, typed for its service."""

    def __post_init__(self) -> None:
        self.client = self._new_client

    def _new_client(self, service: ServiceName) -> Any:
        session = boto3.session.Session(region_name=self.region)
        if self.local:
            # The local emulation checks no credentials, but botocore will not sign without some,
            # and a laptop need not have an AWS profile.
            session = boto3.session.Session(
                region_name=self.region,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - placeholder, checked by no one
            )
        return session.client(service, endpoint_url=self.endpoint_url)

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id]["physical_id"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, str]]:
        return {k: v for k, v in self.resources.items() if v.get("type") == resource_type}


def _running_local_state() -> dict[str, Any] | None:
    """The state of a running `userflow local`; a file left by a killed one is ignored."""
    try:
        state: dict[str, Any] = json.loads(state_file().read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def resolve_stack(args: argparse.Namespace) -> Stack:
    state = None if args.stack_name or args.endpoint_url else _running_local_state()
    if state is not None:
        return Stack(
            name=state["stack_name"],
            region=args.region or state["region"],
            endpoint_url=state["endpoint_url"],
            resources=state["resources"],
            api_url=state["api_url"],
            local=True,
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
