"""Time per argon2id hash for candidate parameters at a given memory size, to choose the cost.

Run on hardware like the target's (a Lambda function gets a share of a vCPU proportional to its
memory: one full vCPU at 1769 MB), e.g. ``python -m scripts.calibrate_password_hash --memory-mib
46``. Candidates below OWASP's minimum (m=19 MiB, t=2, p=1) are marked; the production cost is
``domain.passwords.PRODUCTION_COST``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from domain.passwords import OWASP_MINIMUM, PRODUCTION_COST, Argon2Cost, PasswordHasher


def milliseconds_per_hash(cost: Argon2Cost, runs: int) -> float:
    hasher = PasswordHasher(cost)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        hasher.hash("a calibration passphrase")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def below_owasp_minimum(cost: Argon2Cost) -> bool:
    """OWASP lists equivalent trade-offs of memory for passes; compare total work (m x t)."""
    work = cost.memory_kib * cost.time_cost
    return work < OWASP_MINIMUM.memory_kib * OWASP_MINIMUM.time_cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mib", type=int, default=PRODUCTION_COST.memory_kib // 1024)
    parser.add_argument("--time-costs", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--runs", type=int, default=5, help="hashes per candidate (median)")
    args = parser.parse_args(argv)
    print(f"{'m (MiB)':>8} {'t':>3} {'p':>3} {'ms/hash':>9}  note")
    for time_cost in args.time_costs:
        cost = Argon2Cost(memory_kib=args.memory_mib * 1024, time_cost=time_cost)
        note = "below OWASP minimum" if below_owasp_minimum(cost) else ""
        if cost == PRODUCTION_COST:
            note = "production"
        ms = milliseconds_per_hash(cost, args.runs)
        print(f"{args.memory_mib:>8} {time_cost:>3} {cost.parallelism:>3} {ms:9.1f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
