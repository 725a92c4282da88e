"""The CI/CD workflow's promises, read from the file (actionlint checks its syntax in `make test`):
pushes to main are never queued behind a production approval, the build that staging tested is
the one production gets, and reviewers approve a change set that already exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "ci-cd.yml"
ARTIFACT = "sam-build"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action)]


def test_given_pushes_to_main_when_grouped_then_each_run_has_its_own_group(
    workflow: dict[str, Any],
) -> None:
    group = workflow["concurrency"]["group"]

    assert "github.event_name == 'pull_request'" in group
    assert "github.run_id" in group  # any other event: one group per run, nothing queued behind
    assert (
        workflow["concurrency"]["cancel-in-progress"]
        == "${{ github.event_name == 'pull_request' }}"
    )


def test_given_the_main_pipeline_when_read_then_one_job_builds_and_every_deploy_uses_its_artifact(
    workflow: dict[str, Any],
) -> None:
    jobs = workflow["jobs"]
    builders = [name for name, job in jobs.items() if "make build" in _runs(job)]
    assert builders == ["build"]
    assert _uses(jobs["build"], "actions/upload-artifact")[0]["with"]["name"] == ARTIFACT
    deploying = [name for name, job in jobs.items() if "id-token" in job.get("permissions", {})]
    assert set(deploying) == {"deploy-staging", "plan-prod", "deploy-prod"}
    for name in ("deploy-staging", "plan-prod"):
        runs = _runs(jobs[name])
        assert "sam build" not in runs
        assert "make deploy " not in runs + " ", name  # `make deploy` would build again
        assert _uses(jobs[name], "actions/download-artifact")[0]["with"]["name"] == ARTIFACT


def test_given_production_when_deployed_then_the_approved_change_set_is_the_one_executed(
    workflow: dict[str, Any],
) -> None:
    plan, deploy = workflow["jobs"]["plan-prod"], workflow["jobs"]["deploy-prod"]

    assert plan["needs"] == "deploy-staging"
    assert "make --no-print-directory -s change-set ENV=prod" in _runs(plan)
    assert plan["environment"] != "production"
    assert deploy["needs"] == "plan-prod"
    assert deploy["environment"] == "production"
    assert "make execute-change-set ENV=prod" in _runs(deploy)
    step_env = next(step["env"] for step in deploy["steps"] if "env" in step)
    assert step_env["CHANGE_SET"] == "${{ needs.plan-prod.outputs.change-set }}"
    assert "sam deploy" not in _runs(deploy)
    # The SAM CLI is the pinned one of requirements/sam.txt (through make), not an installer's.
    assert not any(_uses(job, "aws-actions/setup-sam") for job in workflow["jobs"].values())


def test_given_every_action_when_read_then_it_is_pinned_by_commit_with_its_tag_beside_it() -> None:
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert uses
    loose = [
        line
        for line in uses
        if not re.fullmatch(r"- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line)
    ]

    assert loose == []


def test_given_the_deploy_jobs_when_read_then_only_main_reaches_an_environment(
    workflow: dict[str, Any],
) -> None:
    """The environments allow main only (repository settings, docs/deploy.md); the jobs say so
    too, so a workflow edited on a branch cannot reach one unnoticed."""
    deploying = {name: job for name, job in workflow["jobs"].items() if "environment" in job}
    assert set(deploying) == {"deploy-staging", "plan-prod", "deploy-prod"}
    for name, job in deploying.items():
        assert "github.ref == 'refs/heads/main'" in job["if"], name


def test_given_production_when_planned_then_by_a_role_that_cannot_deploy(
    workflow: dict[str, Any],
) -> None:
    jobs = workflow["jobs"]

    def role(job: str) -> str:
        return str(
            _uses(jobs[job], "aws-actions/configure-aws-credentials")[0]["with"]["role-to-assume"]
        )

    assert role("plan-prod") == "${{ vars.AWS_PROD_PLAN_ROLE_ARN }}"
    assert role("deploy-prod") == "${{ vars.AWS_PROD_ROLE_ARN }}"
    assert jobs["plan-prod"]["environment"] == "production-plan"


def test_given_the_tests_when_run_in_ci_then_also_on_lambdas_python(
    workflow: dict[str, Any],
) -> None:
    from scripts.build_artifacts import lambda_python

    versions = workflow["jobs"]["test"]["strategy"]["matrix"]["python"]

    assert lambda_python() in versions
    assert "3.11" in versions


def test_given_the_build_job_when_read_then_it_compiles_the_layers_bytecode_with_lambdas_python(
    workflow: dict[str, Any],
) -> None:
    build = workflow["jobs"]["build"]
    versions = str(_uses(build, "actions/setup-python")[0]["with"]["python-version"]).split()

    assert "3.13" in versions  # Lambda's runtime (template.yaml), which the bytecode is for
    assert versions[-1] == "3.11"  # the default `python`: the one the tests run on
    assert "make build BUILD_FLAGS=--require-bytecode" in _runs(build)
