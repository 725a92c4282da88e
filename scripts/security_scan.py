"""Security scans that `make security` runs with the tools venv: checkov and pip-audit.

- checkov, on template.yaml and deploy/bootstrap.yaml: template.yaml's top-level
  `Metadata.checkov.skip` lists checks that do not apply to any resource of this stack, each with
  a written reason; resource-level skips live on the resource (`Metadata.checkov.skip`). A skip
  without a reason fails the scan.
- pip-audit: a dependency that could not be checked is never taken as clean. Unless
  `--require-database` is given (CI with internet access), an unreachable advisory database is
  reported loudly and the scan passes; a known vulnerability always fails it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from scripts import sam_template

BOOTSTRAP = sam_template.ROOT / "deploy" / "bootstrap.yaml"


def _skips(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    skips: list[dict[str, Any]] = metadata.get("checkov", {}).get("skip", [])
    return skips


def unexplained_skips(template: dict[str, Any]) -> Iterator[str]:
    """Where a check is suppressed without a reason."""
    holders = {"(template)": template, **template.get("Resources", {})}
    for name, holder in holders.items():
        for skip in _skips(holder.get("Metadata", {})):
            if not str(skip.get("comment", "")).strip():
                yield f"{name}: {skip.get('id')} is skipped without a comment"


def run_checkov(checkov: str) -> int:
    template = sam_template.load()
    bootstrap = sam_template.parse(BOOTSTRAP.read_text())
    unexplained = list(unexplained_skips(template)) + list(unexplained_skips(bootstrap))
    if unexplained:
        print("\n".join(unexplained), file=sys.stderr)
        return 1
    stack_wide = ",".join(skip["id"] for skip in _skips(template.get("Metadata", {})))
    # --skip-download: no call to Prisma Cloud for guideline links; the checks ship with checkov.
    command = [checkov, "--quiet", "--compact", "--skip-download", "--framework", "cloudformation"]
    command += ["-f", str(sam_template.TEMPLATE), "-f", str(BOOTSTRAP)]
    if stack_wide:
        command += ["--skip-check", stack_wide]
    return subprocess.run(command, check=False).returncode  # noqa: S603 - argv from our Makefile


def audit_findings(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(known vulnerabilities, dependencies that could not be audited) in a pip-audit report."""
    vulnerable = [
        f"{dep['name']}=={dep['version']}: {vuln['id']} (fixed in {vuln.get('fix_versions')})"
        for dep in report["dependencies"]
        for vuln in dep.get("vulns", [])
    ]
    unaudited = [dep["name"] for dep in report["dependencies"] if "skip_reason" in dep]
    return vulnerable, unaudited


def run_audit(pip_audit: str, requirements: list[str], require_database: bool) -> int:
    command = [pip_audit, "--format", "json", "--no-deps", "--disable-pip", "--progress-spinner"]
    command += ["off", "--vulnerability-service", "pypi"]
    for path in requirements:
        command += ["-r", path]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed to run:\n{result.stderr}", file=sys.stderr)
        return 1
    vulnerable, unaudited = audit_findings(report)
    if vulnerable:
        print("Known vulnerabilities:\n  " + "\n  ".join(vulnerable), file=sys.stderr)
        return 1
    if unaudited:
        print(
            f"DEPENDENCY AUDIT INCOMPLETE: {len(unaudited)} of {len(report['dependencies'])} "
            "pinned packages could not be checked (the PyPI advisory API is unreachable from "
            f"here): {', '.join(unaudited)}",
            file=sys.stderr,
        )
        return 1 if require_database else 0
    print(f"pip-audit: {len(report['dependencies'])} pinned packages, no known vulnerabilities")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="scan", required=True)
    checkov = commands.add_parser("checkov", help="checkov on template.yaml")
    checkov.add_argument("--tool", default="checkov", help="the checkov executable")
    audit = commands.add_parser("audit", help="pip-audit on pinned requirements")
    audit.add_argument("--tool", default="pip-audit", help="the pip-audit executable")
    audit.add_argument("--require-database", action="store_true")
    audit.add_argument("requirements", nargs="+")
    args = parser.parse_args(argv)
    if args.scan == "checkov":
        return run_checkov(args.tool)
    return run_audit(args.tool, args.requirements, args.require_database)


if __name__ == "__main__":
    sys.exit(main())
