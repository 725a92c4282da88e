"""Operators' commands on a stack deployed with the Serverless Framework, where osls names the
template's `MailerFunction` `MailerFunctionLambdaFunction` (moto's CloudFormation)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from userflow.dlq.mail_replay import is_mail_batch
from userflow.stack import resolve_stack

STACK = "userflow-staging"
REGION = "us-east-1"
# The shape of what serverless.yml deploys: a role of the function's own and the function.
SERVERLESS_STACK = {
    "Resources": {
        "MailerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "MailerFunctionLambdaFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": f"{STACK}-MailerFunction",
                "Handler": "index.handler",
                "Runtime": "python3.13",
                "Role": {"Fn::GetAtt": ["MailerRole", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            },
        },
    }
}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK, TemplateBody=json.dumps(SERVERLESS_STACK)
        )
        yield


def test_given_a_serverless_deployed_stack_when_a_command_looks_up_the_mailer_then_it_is_found(
    deployed: None,
) -> None:
    args = argparse.Namespace(stack_name=STACK, region=REGION, endpoint_url=None)

    stack = resolve_stack(args)
    failure = {
        "requestContext": {
            "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{STACK}-MailerFunction"
        }
    }

    assert stack.physical_id("MailerFunction") == f"{STACK}-MailerFunction"
    assert stack.physical_id("MailerFunctionLambdaFunction") == f"{STACK}-MailerFunction"
    # `userflow dlq replay` tells the mailer's failed batches from the stream processor's.
    assert is_mail_batch(stack, failure)
