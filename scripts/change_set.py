"""Production deploys in two steps: this run's change set is created and shown, a person approves,
then exactly that change set is executed (docs/deploy.md, "CI/CD").

    sam package ... --output-template-file build/packaged-prod.yaml
    python -m scripts.change_set create --config-env prod --template-file build/packaged-prod.yaml \
        --s3-bucket <artifacts bucket>
    python -m scripts.change_set execute --stack-name userflow-prod --change-set <ARN>

``create`` names the change set after the run (``userflow-run-<GITHUB_RUN_ID>-<attempt>``, or
``userflow-manual-<time>`` by hand), first deletes every other change set of the stack (a
rejected run's must never be shown or executed later), takes the parameters, capabilities and
tags of ``samconfig.toml``'s ``[<env>.deploy.parameters]`` (parameters not set there keep their
previous values, as `sam deploy` does), and waits for it. It prints the change set's ARN on
stdout (nothing when the template changes nothing: the empty change set is deleted) and its
changes as a Markdown table on stderr and into ``$GITHUB_STEP_SUMMARY`` when set, so reviewers
read them before approving. ``execute`` runs exactly the change set it is given, once: one that
is not this stack's, not available, or already executed is refused. CloudFormation refuses it too
if the stack changed since it was created.
Exit status: 0 done (or nothing to do), 1 the change set failed or is not executable.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
REVIEWABLE = "CREATE_COMPLETE"
# Above this CloudFormation wants the template from S3 (TemplateURL).
TEMPLATE_BODY_LIMIT = 51_200
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def run_change_set_name(environ: dict[str, str] | None = None, now: float | None = None) -> str:
    """The name of this run's change set: CI's run id and attempt, else the time."""
    environ = dict(os.environ) if environ is None else environ
    run_id = environ.get("GITHUB_RUN_ID")
    if run_id:
        return f"userflow-run-{run_id}-{environ.get('GITHUB_RUN_ATTEMPT', '1')}"
    return f"userflow-manual-{int(now if now is not None else time.time())}"


def deploy_settings(config_env: str, samconfig: Path = SAMCONFIG) -> dict[str, Any]:
    """``[<env>.deploy.parameters]`` of samconfig.toml: stack, parameters, capabilities, tags."""
    settings: dict[str, Any] = tomllib.loads(samconfig.read_text())[config_env]["deploy"][
        "parameters"
    ]
    return settings


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


def _parameters(
    cloudformation: Any, stack_name: str, overrides: dict[str, str], declared: list[str]
) -> list[dict[str, Any]]:
    """The overrides, and every other parameter the stack already has at its previous value."""
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cloudformation.exceptions.ClientError:
        stack = {}
    existing = {p["ParameterKey"] for p in stack.get("Parameters", [])}
    given = [{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()]
    kept = [
        {"ParameterKey": key, "UsePreviousValue": True}
        for key in declared
        if key in existing and key not in overrides
    ]
    return given + kept


def _stack_status(cloudformation: Any, stack_name: str) -> str | None:
    try:
        return str(cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"])
    except cloudformation.exceptions.ClientError:
        return None


def delete_other_change_sets(cloudformation: Any, stack_name: str, keep: str = "") -> list[str]:
    """Deletes every change set of the stack but ``keep``; their names."""
    if _stack_status(cloudformation, stack_name) is None:
        return []
    deleted = []
    for page in cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_name):
        for summary in page["Summaries"]:
            if summary["ChangeSetName"] != keep:
                cloudformation.delete_change_set(ChangeSetName=summary["ChangeSetId"])
                deleted.append(summary["ChangeSetName"])
    return deleted


def _template_argument(
    s3: Any, template: str, bucket: str | None, key: str, region: str
) -> dict[str, str]:
    if len(template.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": template}
    if not bucket:
        raise SystemExit("the template is too large to pass inline: give --s3-bucket")
    s3.put_object(Bucket=bucket, Key=key, Body=template.encode())
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def _wait_until_created(cloudformation: Any, arn: str) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = cloudformation.describe_change_set(ChangeSetName=arn)
        if described["Status"] in {REVIEWABLE, "FAILED"}:
            return described
        time.sleep(5)


def create(
    cloudformation: Any,
    s3: Any,
    *,
    settings: dict[str, Any],
    template: str,
    declared_parameters: list[str],
    name: str,
    bucket: str | None = None,
) -> str | None:
    """Creates this run's change set (after deleting every other); its ARN, or None when the
    template changes nothing."""
    stack_name = settings["stack_name"]
    deleted = delete_other_change_sets(cloudformation, stack_name)
    if deleted:
        print(f"{stack_name}: deleted stale change sets {', '.join(deleted)}", file=sys.stderr)
    status = _stack_status(cloudformation, stack_name)
    kind = "UPDATE" if status not in {None, "REVIEW_IN_PROGRESS"} else "CREATE"
    key = f"{settings.get('s3_prefix', stack_name)}/{name}.template"
    region = cloudformation.meta.region_name
    arn: str = cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=kind,
        Parameters=_parameters(
            cloudformation,
            stack_name,
            _pairs(settings.get("parameter_overrides", "")),
            declared_parameters,
        ),
        Capabilities=shlex.split(settings.get("capabilities", "")),
        Tags=[{"Key": k, "Value": v} for k, v in _pairs(settings.get("tags", "")).items()],
        Description=f"{name}: reviewed before it is executed",
        **_template_argument(s3, template, bucket, key, region),
    )["Id"]
    described = _wait_until_created(cloudformation, arn)
    reason = described.get("StatusReason", "")
    empty = described["Status"] == REVIEWABLE and not described.get("Changes")
    if empty or (described["Status"] == "FAILED" and any(m in reason for m in NO_CHANGES)):
        cloudformation.delete_change_set(ChangeSetName=arn)
        print(f"{stack_name}: no change to deploy", file=sys.stderr)
        return None
    if described["Status"] == "FAILED":
        raise SystemExit(f"{stack_name}: change set {name} failed: {reason}")
    return arn


def changes_table(cloudformation: Any, change_set_arn: str) -> str:
    described = cloudformation.describe_change_set(ChangeSetName=change_set_arn)
    rows = [
        "| action | logical id | type | replacement |",
        "| --- | --- | --- | --- |",
    ]
    for change in described.get("Changes", []):
        resource = change.get("ResourceChange", {})
        rows.append(
            f"| {resource.get('Action', '?')} | {resource.get('LogicalResourceId', '?')} "
            f"| {resource.get('ResourceType', '?')} | {resource.get('Replacement', '-') or '-'} |"
        )
    return f"Change set `{change_set_arn}`\n\n" + "\n".join(rows) + "\n"


def show(cloudformation: Any, stack_name: str, change_set_arn: str) -> None:
    """The change set's changes, for reviewers: stderr and the run's summary."""
    table = changes_table(cloudformation, change_set_arn)
    print(table, file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(f"### {stack_name}\n\n{table}\n")


def execute(cloudformation: Any, stack_name: str, change_set_arn: str) -> int:
    if not change_set_arn:
        print(f"{stack_name}: nothing to execute (the change set was empty)", file=sys.stderr)
        return 0
    try:
        described = cloudformation.describe_change_set(
            ChangeSetName=change_set_arn, StackName=stack_name
        )
    except cloudformation.exceptions.ClientError as error:
        print(f"{stack_name}: no change set {change_set_arn}: {error}", file=sys.stderr)
        return 1
    if described.get("StackName") != stack_name:
        print(f"{stack_name}: {change_set_arn} belongs to another stack", file=sys.stderr)
        return 1
    if described.get("ExecutionStatus") != "AVAILABLE":
        print(
            f"{stack_name}: change set is {described.get('ExecutionStatus')}, not executable "
            f"({described.get('StatusReason', 'no reason given')})",
            file=sys.stderr,
        )
        return 1
    # A stack made by a CREATE change set waits in REVIEW_IN_PROGRESS until it is executed.
    creating = _stack_status(cloudformation, stack_name) == "REVIEW_IN_PROGRESS"
    cloudformation.execute_change_set(ChangeSetName=change_set_arn)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(
        StackName=stack_name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
    )
    print(f"{stack_name}: executed {change_set_arn}", file=sys.stderr)
    return 0


def _declared_parameters(template: str) -> list[str]:
    from scripts import sam_template

    return list(sam_template.parse(template).get("Parameters", {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="action", required=True)
    creating = commands.add_parser("create", help="create and show this run's change set")
    creating.add_argument("--config-env", required=True, help="samconfig.toml environment")
    creating.add_argument("--template-file", type=Path, required=True, help="packaged template")
    creating.add_argument("--s3-bucket", help="where a large template is uploaded")
    creating.add_argument("--name", help="default: named after the CI run")
    executing = commands.add_parser("execute", help="execute exactly the given change set")
    executing.add_argument("--stack-name", required=True)
    executing.add_argument("--change-set", default="", help="the ARN `create` printed")
    for command in (creating, executing):
        command.add_argument("--region")
    args = parser.parse_args(argv)
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    if args.action == "execute":
        return execute(cloudformation, args.stack_name, args.change_set)
    settings = deploy_settings(args.config_env)
    template = args.template_file.read_text()
    arn = create(
        cloudformation,
        boto3.client("s3", region_name=args.region),
        settings=settings,
        template=template,
        declared_parameters=_declared_parameters(template),
        name=args.name or run_change_set_name(),
        bucket=args.s3_bucket,
    )
    if arn:
        show(cloudformation, settings["stack_name"], arn)
        print(arn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
