"""Cold imports from the package as Lambda gets it: layers with bytecode, and without.

Lambda's file system is read-only, so a module shipped without bytecode is compiled again on every
cold start. This stages each function as `make build` does (its code from
``build_artifacts.stage_function_code``, as source only, since `sam build` drops bytecode from a
function's code) on top of the layers' packages, copied from this environment twice: as source
only, and compiled as ``build_artifacts.compile_bytecode`` compiles the layers (by this
interpreter here; by Lambda's Python in CI). A fresh interpreter that writes no bytecode (``-B``)
then imports each function's handler with the template's environment; the AWS SDK comes with its
bytecode from this environment, as the Lambda runtime provides it. Median of ``BENCH_RUNS``
(default 5). Run: ``.venv/bin/python -m benchmarks.bytecode``.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.local_stack import save_results
from samlocal.intrinsics import Resolver
from samlocal.template import TemplateError
from scripts import build_artifacts
from userflow.template import userflow_template

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# What a handler needs at import besides the template's variables (no AWS call is made).
IMPORT_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}


def stage_layer_packages(destination: Path) -> None:
    """The installed files of every distribution the layers ship, as source only."""
    pinned = build_artifacts.RUNTIME_REQUIREMENTS.read_text()
    requirements = build_artifacts.layer_requirements(
        pinned
    ) + build_artifacts.blocklist_requirements(pinned)
    for line in requirements.splitlines():
        name = line.split("==", maxsplit=1)[0].strip()
        if not name or name.startswith("#"):
            continue
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or ():
            if ".." in file.parts or "__pycache__" in file.parts:
                continue
            target = destination / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(distribution.locate_file(file))), target)


def import_environment(logical_id: str, layers: Path) -> dict[str, str]:
    """The function's variables as the template sets them with its default parameters; a
    reference to a resource (a table's name, a secret's ARN) stands in as a name."""
    template = userflow_template()
    resolver = Resolver(template, stack_name="bench", region=IMPORT_ENVIRONMENT["AWS_REGION"])
    variables = template.function_properties(logical_id).get("Environment", {}).get("Variables", {})
    env = {"PATH": os.environ.get("PATH", ""), **IMPORT_ENVIRONMENT, "PYTHONPATH": str(layers)}
    for name, value in variables.items():
        try:
            env[name] = str(resolver.resolve(value))
        except TemplateError:
            env[name] = f"bench-{name.lower()}"
    return env


def import_milliseconds(module: str, code: Path, env: dict[str, str]) -> float:
    """Wall time of a fresh interpreter (start included) that imports ``module`` and exits."""
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our interpreter, our staged code
        [sys.executable, "-B", "-c", f"import {module}"],
        cwd=code,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (time.perf_counter() - started) * 1000


def measure() -> dict[str, Any]:
    template = userflow_template()
    handlers = {
        logical_id: str(template.function_properties(logical_id)["Handler"]).rpartition(".")[0]
        for logical_id in sorted(template.of_type("AWS::Serverless::Function"))
    }
    with tempfile.TemporaryDirectory() as scratch:
        code, source, compiled = (Path(scratch) / name for name in ("code", "source", "compiled"))
        build_artifacts.stage_function_code(code)
        stage_layer_packages(source)
        shutil.copytree(source, compiled)
        build_artifacts.compile_bytecode(compiled, sys.executable)
        rows = {}
        for logical_id, module in handlers.items():
            times: dict[str, list[float]] = {"source": [], "bytecode": []}
            for _ in range(RUNS):
                for kind, layers in (("source", source), ("bytecode", compiled)):
                    env = import_environment(logical_id, layers)
                    times[kind].append(import_milliseconds(module, code, env))
            without, with_bytecode = (statistics.median(times[k]) for k in ("source", "bytecode"))
            rows[logical_id] = {
                "without_bytecode_ms": round(without, 1),
                "with_bytecode_ms": round(with_bytecode, 1),
                "saved_ms": round(without - with_bytecode, 1),
                "ratio": round(without / with_bytecode, 2),
            }
    return {"runs": RUNS, "functions": rows}


def main() -> int:
    results = measure()
    print(f"Handler import from the staged package (median of {results['runs']}), fresh -B")
    print(f"{'function':30} {'no bytecode':>12} {'bytecode':>9} {'saved':>7} {'ratio':>6}")
    for logical_id, row in results["functions"].items():
        print(
            f"{logical_id:30} {row['without_bytecode_ms']:12.0f} {row['with_bytecode_ms']:9.0f}"
            f" {row['saved_ms']:7.0f} {row['ratio']:6.2f}"
        )
    print(f"written to {save_results('bytecode', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
