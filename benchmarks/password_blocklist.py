"""What the common-password blocklist costs a function: memory and time per check.

Memory: the resident set size of a fresh interpreter that imported the domain and ran the checks,
against one that only imported the domain (the baseline). Time: a policy check against one key
derivation at the production scrypt cost, the work every registration does anyway.
Run: `python -m benchmarks.password_blocklist`.
"""

from __future__ import annotations

import subprocess
import sys
import time

CHECKS = 2000
_RSS_PROBE = """
import resource, sys
from domain import password_policy
if sys.argv[1] == "checks":
    for i in range({checks}):
        password_policy.is_common_password(f"candidate password {{i}}")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(mode: str) -> int:
    probe = _RSS_PROBE.format(checks=CHECKS)
    result = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip())


def main() -> int:
    from domain.password_policy import is_common_password
    from domain.passwords import PRODUCTION_COST, PasswordHasher

    baseline, loaded = peak_rss_kib("import"), peak_rss_kib("checks")
    started = time.perf_counter()
    for i in range(CHECKS):
        is_common_password(f"candidate password {i}")
    per_check = (time.perf_counter() - started) / CHECKS
    hasher = PasswordHasher(PRODUCTION_COST)
    started = time.perf_counter()
    hasher.hash("candidate password")
    per_hash = time.perf_counter() - started
    print(f"peak RSS: {baseline / 1024:.1f} MiB imported, {loaded / 1024:.1f} MiB after")
    print(f"  {CHECKS} blocklist checks: +{(loaded - baseline) / 1024:.1f} MiB")
    print(f"blocklist check: {per_check * 1e6:.0f} us; one production scrypt hash:")
    print(f"  {per_hash * 1e3:.0f} ms (a check costs {per_check / per_hash:.2%} of it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
