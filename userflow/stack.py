"""Finds a stack's resources, on AWS (CloudFormation) or on the running local stack.

Every operator command takes ``--stack-name/--endpoint-url/--region`` as AWS tools do; with none of
them, the running ``userflow local`` stack's recorded state is used. With no local stack running
and no ``--stack-name``, nothing is targeted: an operator with credentials must never act on a
deployed stack by accident. The target is announced on stderr before anything is done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from userflow.errors import EXIT_USAGE, CommandError

if TYPE_CHECKING:
    import subprocess

    from adapters.aws_clients import ClientFactory, ServiceName


def state_file() -> Path:
    base = os.environ.get("USERFLOW_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state", "userflow"
    )
    return Path(base) / "local.json"


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack-name",
        help="deployed CloudFormation stack, e.g. userflow-staging (default: the running local "
        "stack; without one, the command refuses to run)",
    )
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint, with --stack-name (default: the local stack's)"
    )
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
    template: str | None = None
    """The template the local stack runs (its functions' settings); None: the repository's."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Template parameters set for a local stack (`userflow local --parameter-overrides`)."""

    client: ClientFactory = field(init=False, repr=False, compare=False)
    """``stack.client("sqs")``: a client of the stack's endpoint, typed for its service."""

    def __post_init__(self) -> None:
        self.client = self._new_client

    def _new_client(self, service: ServiceName) -> Any:
        import boto3

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
        try:
            return self.resources[logical_id]["physical_id"]
        except KeyError:
            raise CommandError(
                f"stack {self.name} has no {logical_id}: is it a Userflow stack?", EXIT_USAGE
            ) from None

    def of_type(self, resource_type: str) -> dict[str, dict[str, str]]:
        return {k: v for k, v in self.resources.items() if v.get("type") == resource_type}


def running_local_state() -> dict[str, Any] | None:
    """The state of a running `userflow local`; a file left by a killed one is ignored."""
    try:
        state: dict[str, Any] = json.loads(state_file().read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def wait_for_local_state(
    process: subprocess.Popen[bytes], state_path: Path, timeout_s: float, poll_s: float = 0.1
) -> dict[str, Any]:
    """The state that `userflow local` started as ``process`` records once it serves requests
    (benchmarks and end-to-end tests start it with ``--port 0`` and learn its ports here)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"userflow local exited with {process.returncode}")
        if state_path.exists():
            try:
                state: dict[str, Any] = json.loads(state_path.read_text())
            except ValueError:
                state = {}
            if state.get("pid") == process.pid:
                return state
        time.sleep(poll_s)
    raise RuntimeError("userflow local did not start in time")


def resolve_stack(args: argparse.Namespace) -> Stack:
    """The stack the command acts on, announced on stderr before anything is done to it.

    The flags combine as AWS tools take them, or are refused with the reason: with no
    ``--stack-name`` the running local stack is the target, at its own endpoint and region, so
    ``--endpoint-url`` needs ``--stack-name`` and ``--region`` must be the local stack's (another
    region of the local emulation holds nothing of it). A deployed stack needs a region, from
    ``--region`` or the AWS configuration (``AWS_REGION``, ``AWS_DEFAULT_REGION``, a profile)."""
    if not args.stack_name:
        return _local_stack(args)
    region = args.region or _configured_region()
    if not region:
        raise CommandError(
            f"no region for stack {args.stack_name!r}: give --region, or set AWS_REGION (or a "
            "profile's region) as for the AWS CLI",
            EXIT_USAGE,
        )
    stack = Stack(name=args.stack_name, region=region, endpoint_url=args.endpoint_url)
    announce(stack)
    cloudformation = stack.client("cloudformation")
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack.name):
        for summary in page["StackResourceSummaries"]:
            stack.resources[summary["LogicalResourceId"]] = {
                "physical_id": summary.get("PhysicalResourceId", ""),
                "type": summary["ResourceType"],
            }
    with_template_names(stack.resources)
    return stack


# osls names the function that template.yaml calls `MailerFunction` `MailerFunctionLambdaFunction`
# in a stack deployed from the generated serverless.yml (docs/deploy.md).
SERVERLESS_FUNCTION_SUFFIX = "LambdaFunction"


def with_template_names(resources: dict[str, dict[str, str]]) -> None:
    """Adds each function of a Serverless-deployed stack under its template.yaml name too, so
    that the commands find it whichever tool deployed the stack."""
    for logical_id, resource in list(resources.items()):
        if resource["type"] == "AWS::Lambda::Function" and logical_id.endswith(
            SERVERLESS_FUNCTION_SUFFIX
        ):
            resources.setdefault(logical_id.removesuffix(SERVERLESS_FUNCTION_SUFFIX), resource)


def _local_stack(args: argparse.Namespace) -> Stack:
    if args.endpoint_url:
        raise CommandError(
            "--endpoint-url needs --stack-name: it says where a deployed stack's AWS is (the "
            "local stack is found at its own endpoint without flags)",
            EXIT_USAGE,
        )
    state = running_local_state()
    if state is None:
        raise CommandError(
            "no local stack is running and no --stack-name was given: start `userflow "
            "local`, or name the deployed stack (e.g. --stack-name userflow-staging)",
            EXIT_USAGE,
        )
    if args.region and args.region != state["region"]:
        raise CommandError(
            f"the local stack {state['stack_name']!r} runs in region {state['region']}, and "
            f"region {args.region} of its endpoint holds none of it: drop --region, or name a "
            "deployed stack with --stack-name",
            EXIT_USAGE,
        )
    stack = Stack(
        name=state["stack_name"],
        region=state["region"],
        endpoint_url=state["endpoint_url"],
        resources=state["resources"],
        api_url=state["api_url"],
        local=True,
        template=state.get("template"),
        parameters=state.get("parameters", {}),
    )
    announce(stack)
    return stack


def _configured_region() -> str | None:
    import boto3

    region: str | None = boto3.session.Session().region_name
    return region


def describe_target(stack: Stack) -> str:
    if stack.local:
        api, endpoint = stack.api_url, stack.endpoint_url
        return (
            f"local stack {stack.name!r} (API {api}, AWS endpoint {endpoint}, region "
            f"{stack.region})"
        )
    where = f"endpoint {stack.endpoint_url}" if stack.endpoint_url else "AWS"
    return f"stack {stack.name!r} on {where}, region {stack.region}"


def announce(stack: Stack) -> None:
    print(f"target: {describe_target(stack)}", file=sys.stderr, flush=True)
