"""`make doctor` says in plain words what a deploy lacks, and never answers with a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.doctor import Finding, check_aws_credentials, check_sam_cli, report

ROOT = Path(__file__).resolve().parents[3]


def test_given_a_bare_machine_when_the_doctor_runs_then_it_lists_what_is_missing_in_words(
    tmp_path: Path,
) -> None:
    bare = {
        "PATH": str(Path(sys.executable).parent),  # no sam, no python3.13 (this venv's python)
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    done = subprocess.run(
        [sys.executable, "-m", "scripts.doctor", "--sam", "sam-not-installed"],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "SAM CLI: not found" in done.stdout
    assert "AWS credentials: none found" in done.stdout
    assert "AWS region: not set" in done.stdout
    assert "-> run `make sam-cli`" in done.stdout
    assert done.stdout.endswith("\n")


def test_given_a_sam_cli_that_cannot_run_then_the_doctor_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "sam"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)

    finding = check_sam_cli(str(broken), "python3.13")

    assert not finding.ok
    assert "does not run" in finding.what


def test_given_credentials_and_a_region_then_both_are_ok() -> None:
    import boto3

    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="eu-west-1"
    )

    findings = check_aws_credentials(lambda: session)

    assert all(f.ok for f in findings), findings
    assert findings[1].what == "AWS region: eu-west-1"


def test_given_only_a_warning_then_the_deploy_is_ready() -> None:
    findings = [Finding(True, "SAM CLI 1.140.0"), Finding(False, "no python3.13", "x", False)]

    assert report(findings) == 0
