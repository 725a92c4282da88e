"""Production deploys in two steps: the change set is created and shown, a person approves, then
exactly that change set is executed (docs/deploy.md, "CI/CD").

    sam deploy --config-env prod --no-execute-changeset --no-confirm-changeset
    python -m scripts.change_set show --stack-name userflow-prod
    python -m scripts.change_set execute --stack-name userflow-prod --change-set <ARN>

``show`` prints the newest reviewable change set's ARN on stdout (nothing when the template
changed nothing) and its changes as a Markdown table on stderr and into ``$GITHUB_STEP_SUMMARY``
when set, so reviewers read it before approving. ``execute`` runs that change set and waits;
CloudFormation refuses it if the stack changed since it was created.
Exit status: 0 done (or nothing to do), 1 the change set failed or is no longer executable.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

REVIEWABLE = "CREATE_COMPLETE"


def latest_change_set(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The newest change set of the stack that can still be executed, if any."""
    summaries: list[dict[str, Any]] = []
    for page in cloudformation.get_paginator("list_change_sets").paginate(StackName=stack_name):
        summaries.extend(page["Summaries"])
    executable = [
        summary
        for summary in summaries
        if summary.get("Status") == REVIEWABLE
        and summary.get("ExecutionStatus", "AVAILABLE") == "AVAILABLE"
    ]
    return max(executable, key=lambda summary: summary["CreationTime"], default=None)


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


def show(cloudformation: Any, stack_name: str) -> int:
    change_set = latest_change_set(cloudformation, stack_name)
    if change_set is None:
        print(f"{stack_name}: no change to deploy", file=sys.stderr)
        return 0
    table = changes_table(cloudformation, change_set["ChangeSetId"])
    print(table, file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(f"### {stack_name}\n\n{table}\n")
    print(change_set["ChangeSetId"])
    return 0


def execute(cloudformation: Any, stack_name: str, change_set_arn: str) -> int:
    if not change_set_arn:
        print(f"{stack_name}: nothing to execute (the change set was empty)", file=sys.stderr)
        return 0
    described = cloudformation.describe_change_set(ChangeSetName=change_set_arn)
    if described.get("ExecutionStatus") != "AVAILABLE":
        print(
            f"{stack_name}: change set is {described.get('ExecutionStatus')}, not executable "
            f"({described.get('StatusReason', 'no reason given')})",
            file=sys.stderr,
        )
        return 1
    # A stack made by a CREATE change set waits in REVIEW_IN_PROGRESS until it is executed.
    status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    creating = status == "REVIEW_IN_PROGRESS"
    cloudformation.execute_change_set(ChangeSetName=change_set_arn)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(
        StackName=stack_name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
    )
    print(f"{stack_name}: executed {change_set_arn}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["show", "execute"])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--change-set", default="", help="ARN printed by `show` (execute)")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    if args.action == "show":
        return show(cloudformation, args.stack_name)
    return execute(cloudformation, args.stack_name, args.change_set)


if __name__ == "__main__":
    sys.exit(main())
