"""The deploy roles (deploy/bootstrap.yaml), checked offline against what CloudFormation's resource
handlers need for every resource type of the translated template (scripts/deploy_role_check.py),
against IAM's catalogue of actions, and against the ARNs the stack will really have."""

from __future__ import annotations

import copy
import fnmatch
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from samlocal.intrinsics import Resolver
from samlocal.template import Template
from scripts import deploy_role_check, sam_template
from scripts.bootstrap_outputs import bootstrap_stack
from scripts.osls_deploy_calls import deploy_actions

STACK = "userflow-prod"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return sam_template.translate(sam_template.load())


@pytest.fixture(scope="module")
def role() -> deploy_role_check.RoleDocument:
    return deploy_role_check.read_role()


def _without(role: deploy_role_check.RoleDocument, action: str) -> deploy_role_check.RoleDocument:
    smaller = copy.deepcopy(role)
    smaller.grants = [g for g in smaller.grants if g.action.lower() != action.lower()]
    return smaller


def test_given_the_translated_template_when_checked_then_the_deploy_role_grants_what_it_needs(
    cfn: dict[str, Any], role: deploy_role_check.RoleDocument
) -> None:
    # The translation adds CodeDeploy for DeploymentPreference: its types are checked too.
    assert {"AWS::CodeDeploy::DeploymentGroup", "AWS::Lambda::Version"} <= (
        deploy_role_check.resource_types(cfn)
    )
    assert deploy_role_check.problems(cfn, role) == []


@pytest.mark.parametrize(
    ("action", "needed_by"),
    [
        ("lambda:PublishVersion", "AWS::Lambda::Version"),  # AutoPublishAlias
        ("lambda:CreateAlias", "AWS::Lambda::Alias"),
        ("lambda:UpdateAlias", "AWS::Lambda::Alias"),
        ("lambda:PublishLayerVersion", "AWS::Lambda::LayerVersion"),
        ("lambda:GetLayerVersion", "AWS::Lambda::Function"),  # AWS's extension layer
        ("sns:Subscribe", "AWS::SNS::Subscription"),  # AlarmEmail
        ("codedeploy:CreateDeploymentGroup", "AWS::CodeDeploy::DeploymentGroup"),
    ],
)
def test_given_a_role_without_a_permission_a_handler_needs_when_checked_then_it_is_named(
    cfn: dict[str, Any], role: deploy_role_check.RoleDocument, action: str, needed_by: str
) -> None:
    found = deploy_role_check.problems(cfn, _without(role, action))

    assert [p for p in found if p.startswith(f"missing {action.lower()} ")] == [
        next(p for p in found if action.lower() in p)
    ]
    assert needed_by in " ".join(found)


def test_given_grants_broader_or_emptier_than_needed_when_checked_then_each_is_named(
    cfn: dict[str, Any], role: deploy_role_check.RoleDocument
) -> None:
    loose = copy.deepcopy(role)
    grant = deploy_role_check.Grant
    loose.grants += [
        grant("lambda:*", ["*"], conditional=False),  # a wildcard action
        grant("sqs:PurgeQueue", ["arn:aws:sqs:*:*:userflow-prod-*"], conditional=False),
        grant("dynamodb:DescribeTable", ["*"], conditional=False),  # scopable, on "*"
        grant("logs:DescribeLogGroups", ["arn:aws:logs:*:*:log-group:x"], conditional=False),
        grant("apigateway:TagResource", ["*"], conditional=False),  # no such IAM action
    ]

    found = " | ".join(deploy_role_check.problems(cfn, loose))

    assert "lambda:*: wildcard action" in found
    assert "sqs:PurgeQueue is granted but no handler needs it" in found
    assert "dynamodb:DescribeTable on any resource" in found
    assert "logs:DescribeLogGroups has no resource type" in found
    assert "apigateway:TagResource is no IAM action" in found


def test_given_the_command_line_when_run_on_a_template_then_its_exit_status_says_whether_it_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    narrow = tmp_path / "bootstrap.yaml"
    narrow.write_text(
        deploy_role_check.ROLE_TEMPLATE.read_text().replace("              - sns:Subscribe\n", "")
    )

    assert deploy_role_check.main([str(sam_template.TEMPLATE)]) == 0
    assert deploy_role_check.main([str(sam_template.TEMPLATE), "--role-template", str(narrow)]) == 1
    assert "missing sns:subscribe (needed by AWS::SNS::Subscription" in capsys.readouterr().err


# ------------------------------------------------------------------------------ resources


def _bootstrap() -> dict[str, Any]:
    return sam_template.parse(deploy_role_check.ROLE_TEMPLATE.read_text())


def _resolved_grants(role_name: str) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(action, ARN patterns, condition) of a role, for stack userflow-prod in eu-west-1."""
    body = _bootstrap()
    resolver = Resolver(
        Template(deploy_role_check.ROLE_TEMPLATE, body),
        stack_name="userflow-prod-bootstrap",
        region=REGION,
        parameters={"StackName": STACK, "GitHubRepository": "acme/userflow"},
    )
    resolver.refs["ArtifactsBucket"] = "artifacts"
    resolver.attributes["ArtifactsBucket"] = {"Arn": "arn:aws:s3:::artifacts"}
    properties = body["Resources"][role_name]["Properties"]
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])] + [
        body["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
        for arn in properties.get("ManagedPolicyArns", [])
    ]
    grants = []
    for document in documents:
        for statement in resolver.resolve(document)["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            grants += [(a, resources, statement.get("Condition", {})) for a in actions]
    return grants


def _allowed(grants: list[tuple[str, list[str], dict[str, Any]]], action: str, arn: str) -> bool:
    return any(
        a.lower() == action.lower() and any(fnmatch.fnmatchcase(arn, r) for r in resources)
        for a, resources, _ in grants
    )


def test_given_the_stacks_layers_topic_and_functions_then_the_role_may_act_on_their_arns() -> None:
    grants = _resolved_grants("DeployRole")
    lam = f"arn:aws:lambda:{REGION}:{ACCOUNT}"
    extension = Resolver(
        Template(sam_template.TEMPLATE, sam_template.load()), stack_name=STACK, region=REGION
    ).resolve(
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${E}",
                {"E": {"Fn::FindInMap": ["ParametersSecretsExtension", REGION, "Arm64"]}},
            ]
        }
    )

    for layer in ("dependencies", "password-blocklist"):
        assert _allowed(grants, "lambda:PublishLayerVersion", f"{lam}:layer:{STACK}-{layer}")
        assert _allowed(grants, "lambda:DeleteLayerVersion", f"{lam}:layer:{STACK}-{layer}:3")
    assert _allowed(grants, "lambda:GetLayerVersion", extension)
    assert _allowed(grants, "lambda:PublishVersion", f"{lam}:function:{STACK}-LoginFunction-AbC1")
    assert _allowed(grants, "lambda:UpdateAlias", f"{lam}:function:{STACK}-LoginFunction-AbC1:live")
    assert _allowed(
        grants, "lambda:CreateFunction", f"{lam}:function:CodeDeployHook_{STACK}-pre-traffic"
    )
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-alarms"
    assert _allowed(grants, "sns:Subscribe", topic)
    assert not _allowed(grants, "lambda:UpdateFunctionCode", f"{lam}:function:other-app-Fn")


def test_given_an_osls_deploy_then_the_role_may_make_its_own_calls_where_osls_makes_them() -> None:
    """What `osls deploy` calls itself (scripts/osls_deploy_calls.py), on the ARNs it calls them
    on: serverless.yml's stack, functions (`<service>-<stage>-<name>`), the bootstrap stack's
    outputs (its deployment bucket) and that bucket, under osls' prefix `serverless/`."""
    grants = _resolved_grants("DeployRole")
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1f2e"
    # AWS::StackId of the bootstrap stack, as the resolver names it.
    bootstrap = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{bootstrap_stack(STACK)}/local"
    artifact = (
        "arn:aws:s3:::artifacts/serverless/userflow/prod/1765011600000-2025-12-06T09:00:00.000Z"
    )
    where = {
        "cloudformation:DescribeStacks": [stack, bootstrap],
        "cloudformation:CreateChangeSet": [stack],
        "cloudformation:DescribeChangeSet": [stack],
        "cloudformation:ExecuteChangeSet": [stack],
        "cloudformation:DeleteChangeSet": [stack],
        "cloudformation:DescribeStackEvents": [stack],
        "cloudformation:ListStackResources": [stack],
        "cloudformation:ValidateTemplate": ["*"],
        "lambda:GetFunction": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-LoginFunction"],
        "s3:ListBucket": ["arn:aws:s3:::artifacts"],
        "s3:GetObject": [f"{artifact}/userflow.zip"],
        "s3:PutObject": [f"{artifact}/userflow.zip"],
        "s3:AbortMultipartUpload": [f"{artifact}/PasswordBlocklistLayer.zip"],
        "s3:DeleteObject": [f"{artifact}/compiled-cloudformation-template.json"],
    }

    assert set(where) == set(deploy_actions())
    for action, arns in where.items():
        for arn in arns:
            assert _allowed(grants, action, arn), (action, arn)
    # Its clean-up deletes its own older deploys, never SAM's builds.
    assert not _allowed(grants, "s3:DeleteObject", "arn:aws:s3:::artifacts/userflow-prod/0a1b")


def test_given_the_plan_role_when_read_then_it_creates_change_sets_and_can_apply_nothing() -> None:
    grants = _resolved_grants("PlanRole")
    actions = {a.lower() for a, _, _ in grants}
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/1f2e"
    denied = next(
        s
        for s in _bootstrap()["Resources"]["PlanRole"]["Properties"]["Policies"][0][
            "PolicyDocument"
        ]["Statement"]
        if s["Effect"] == "Deny"
    )

    assert _allowed(grants, "cloudformation:CreateChangeSet", stack)
    assert "cloudformation:executechangeset" not in actions
    assert not {a for a in actions if a.startswith(("iam:", "lambda:", "dynamodb:"))}
    assert {"cloudformation:ExecuteChangeSet", "iam:*"} <= set(denied["Action"])


def test_given_the_roles_trust_when_read_then_only_their_github_environment_may_assume_them() -> (
    None
):
    resources = _bootstrap()["Resources"]
    for role, parameter in (("DeployRole", "DeployEnvironment"), ("PlanRole", "PlanEnvironment")):
        [statement] = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        assert condition["token.actions.githubusercontent.com:sub"] == {
            "Fn::Sub": f"repo:${{GitHubRepository}}:environment:${{{parameter}}}"
        }


def test_given_the_bootstrap_template_when_cfn_lint_runs_then_it_finds_nothing() -> None:
    findings = [str(m) for m in lint(deploy_role_check.ROLE_TEMPLATE.read_text())]

    assert findings == []
