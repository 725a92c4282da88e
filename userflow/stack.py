"""Finds a stack's resources, on AWS (CloudFormation) or on the running local stack.

Every operator command takes ``--stack-name/--endpoint-url/--region`` as AWS tools do; with none of
them, the running ``userflow local`` stack's recorded state is used. With no local stack running
and no ``--stack-name``, nothing is targeted: an operator with credentials must never act on a
deployed stack by accident. The target is announced on stderr before anything is done.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from samlocal.provision import ProvisionedStack
from userflow.errors import EXIT_USAGE, CommandError
from userflow.local_state import running_local_state

if TYPE_CHECKING:
    from adapters.aws_clients import ClientFactory, ServiceName


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
class Stack(ProvisionedStack):
    """A stack as the operator commands see it: deployed (found through CloudFormation) or the
    running local one (``local``: found through its state file, at the emulator's endpoint)."""

    local: bool = False

    client: ClientFactory = field(init=False, repr=False, compare=False)
    """``stack.client("sqs")``: a client of the stack's endpoint, typed for its service."""

    @classmethod
    def local_of(cls, provisioned: ProvisionedStack) -> Stack:
        """The operators' view of a stack the emulator provisioned."""
        return cls(
            name=provisioned.name,
            region=provisioned.region,
            endpoint_url=provisioned.endpoint_url,
            resources=provisioned.resources,
            parameters=provisioned.parameters,
            api_url=provisioned.api_url,
            template=provisioned.template,
            local=True,
        )

    def _new_client(self, service: ServiceName) -> Any:
        if self.local:
            return super()._new_client(service)
        import boto3

        session = boto3.session.Session(region_name=self.region)
        return session.client(service, endpoint_url=self.endpoint_url)

    def physical_id(self, logical_id: str) -> str:
        try:
            return super().physical_id(logical_id)
        except KeyError:
            raise CommandError(
                f"stack {self.name} has no {logical_id}: is it a Userflow stack?", EXIT_USAGE
            ) from None


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
        parameters=state.get("parameters", {}),
        api_url=state["api_url"],
        local=True,
        template=state.get("template"),
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
