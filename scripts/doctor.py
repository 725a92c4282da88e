"""`make doctor`: are the tools a deploy needs here? One line per check, in plain words, and what
to do about each that fails; never a traceback.

    python -m scripts.doctor [--sam PATH]   # exit 1 when something a deploy needs is missing

Checked: the SAM CLI (and that it knows the template's runtime), a Python of Lambda's version
for the layers' bytecode, AWS credentials and a region. Local work (`make run`, `make test`)
needs none of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import boto3

from scripts import sam_template
from scripts.build_artifacts import bytecode_compiler
from scripts.sam_cli_version import installed_version, required_sam_cli


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""
    required: bool = True
    """False: the deploy still works without it (only slower or noisier)."""


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def check_sam_cli(sam: str, runtime: str) -> Finding:
    found = shutil.which(sam)
    if found is None:
        return Finding(
            False,
            f"SAM CLI: not found ({sam})",
            "run `make sam-cli` (installs the pinned one in .venv-sam) or install the AWS SAM CLI",
        )
    try:
        have = installed_version(found)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return Finding(False, f"SAM CLI: {found} does not run ({error})", "reinstall it")
    needed = required_sam_cli(runtime)
    if have < needed:
        return Finding(
            False,
            f"SAM CLI {_dotted(have)}: too old for {runtime}",
            f"install SAM CLI {_dotted(needed)} or later (`make sam-cli`)",
        )
    return Finding(True, f"SAM CLI {_dotted(have)} ({found})")


def check_bytecode_python(runtime: str) -> Finding:
    version = runtime.removeprefix("python")
    found = bytecode_compiler(version)
    if found is None:
        return Finding(
            False,
            f"python{version}: not on PATH, so the layers ship without bytecode "
            "(about 200 ms more per cold start)",
            f"install Python {version} (e.g. `uv python install {version}`, pyenv, or your "
            f"package manager) and put python{version} on PATH; CI requires it",
            required=False,
        )
    return Finding(True, f"python{version} for the layers' bytecode ({found})")


def check_aws_credentials(
    session_factory: Callable[[], boto3.Session] | None = None,
) -> list[Finding]:
    from botocore.exceptions import BotoCoreError

    try:
        session = (session_factory or boto3.Session)()
        credentials = session.get_credentials()
        region = session.region_name
    except (BotoCoreError, ValueError) as error:
        return [Finding(False, f"AWS configuration is unreadable: {error}", "fix ~/.aws/config")]
    findings = []
    if credentials is None:
        findings.append(
            Finding(
                False,
                "AWS credentials: none found",
                "run `aws configure sso` / `aws sso login`, or set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        )
    else:
        findings.append(Finding(True, f"AWS credentials: found ({credentials.method})"))
    if not region:
        findings.append(
            Finding(False, "AWS region: not set", "set AWS_REGION (or a region in your profile)")
        )
    else:
        findings.append(Finding(True, f"AWS region: {region}"))
    return findings


def diagnose(sam: str) -> list[Finding]:
    runtime = str(sam_template.load()["Globals"]["Function"]["Runtime"])
    return [
        check_sam_cli(sam, runtime),
        check_bytecode_python(runtime),
        *check_aws_credentials(),
    ]


def report(findings: list[Finding]) -> int:
    for finding in findings:
        mark = "ok  " if finding.ok else ("MISSING" if finding.required else "warn")
        print(f"{mark:8}{finding.what}")
        if not finding.ok:
            print(f"        -> {finding.fix}")
    missing = [f for f in findings if not f.ok and f.required]
    if missing:
        print(f"\n{len(missing)} thing(s) a deploy needs are missing (see above).")
        return 1
    print("\nReady to deploy (`make deploy ENV=staging`).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sam", default=os.environ.get("SAM", "sam"))
    args = parser.parse_args(argv)
    return report(diagnose(args.sam))


if __name__ == "__main__":
    sys.exit(main())
