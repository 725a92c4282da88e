"""Cold-start import cost of every function in template.yaml, measured with ``-X importtime``.

Each handler module is imported in a fresh interpreter (as a new Lambda container would), several
times; the median is printed next to a baseline measured in the same run: a bare ``import boto3``,
the least any AWS Lambda in Python pays. Run: ``.venv/bin/python -m benchmarks.cold_start``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BASELINE = "import boto3"
ENV = {
    **os.environ,
    "TABLE_NAME": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def import_microseconds(statement: str) -> int:
    """Cumulative import time of everything ``statement`` imports, per -X importtime."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):
            total += int(cumulative)
    return total


def median_ms(statement: str) -> float:
    return statistics.median(import_microseconds(statement) for _ in range(RUNS)) / 1000


def handler_modules() -> dict[str, str]:
    from userflow.local.template import load_template

    template = load_template(ROOT / "template.yaml")
    return {
        logical_id: str(template.function_properties(logical_id)["Handler"]).rpartition(".")[0]
        for logical_id in template.of_type("AWS::Serverless::Function")
    }


def main() -> int:
    baseline = median_ms(BASELINE)
    print(f"{'function':32} {'import ms':>10} {'x baseline':>11}")
    print(f"{'baseline: ' + BASELINE:32} {baseline:10.1f} {1.0:11.2f}")
    for logical_id, module in sorted(handler_modules().items()):
        cost = median_ms(f"import {module}")
        print(f"{logical_id:32} {cost:10.1f} {cost / baseline:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
