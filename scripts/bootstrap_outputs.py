"""An output of an application stack's bootstrap stack (deploy/bootstrap.yaml), which is named
``<application stack>-bootstrap`` (docs/deploy.md): the deploy reads the artifacts bucket here.

    python -m scripts.bootstrap_outputs --stack-name userflow-staging ArtifactsBucketName
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import boto3

SUFFIX = "-bootstrap"
# Where builds are uploaded (SAM's `--s3-bucket`, osls' `provider.deploymentBucket`).
ARTIFACTS_BUCKET = "ArtifactsBucketName"


def bootstrap_stack(stack_name: str) -> str:
    return f"{stack_name}{SUFFIX}"


def output(cloudformation: Any, stack_name: str, key: str) -> str:
    described = cloudformation.describe_stacks(StackName=bootstrap_stack(stack_name))
    for item in described["Stacks"][0].get("Outputs", []):
        if item["OutputKey"] == key:
            return str(item["OutputValue"])
    raise KeyError(f"{bootstrap_stack(stack_name)} has no output {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-name", required=True, help="the application stack")
    parser.add_argument("--region")
    parser.add_argument("key", help="e.g. ArtifactsBucketName")
    args = parser.parse_args(argv)
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    try:
        print(output(cloudformation, args.stack_name, args.key))
    except (KeyError, cloudformation.exceptions.ClientError) as error:
        print(
            f"bootstrap_outputs: {error} (docs/deploy.md, 'A new account from zero')",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
