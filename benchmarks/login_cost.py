"""A login on the local stack against one scrypt N=2^17 hash (the previous password hash).

Median wall time of ``POST /auth/login`` through `userflow local` (production hash cost: its
argon2id verification, DynamoDB reads and writes, token signing, HTTP) next to the median time of
one scrypt hash at the cost that argon2id replaced, measured in the same run. Target: at most
half. Run: ``.venv/bin/python -m benchmarks.login_cost``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import statistics
import sys
import time

from benchmarks.local_stack import local_stack, save_results

LOGINS = int(os.environ.get("BENCH_LOGINS", "9"))
TARGET = 0.5


def scrypt_ms() -> float:
    started = time.perf_counter()
    hashlib.scrypt(
        b"a benchmark passphrase",
        salt=secrets.token_bytes(16),
        n=2**17,
        r=8,
        p=1,
        maxmem=2**28,
        dklen=32,
    )
    return (time.perf_counter() - started) * 1000


def main() -> int:
    logins, hashes = [], []
    with local_stack() as bench:
        user = bench.new_user()
        for _ in range(LOGINS):
            started = time.perf_counter()
            status, _ = bench.request(
                "POST", "/auth/login", {"email": user.email, "password": user.password}
            )
            logins.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
            hashes.append(scrypt_ms())  # interleaved: both see the same machine load
    login, scrypt = statistics.median(logins), statistics.median(hashes)
    results = {"login_ms": round(login), "scrypt_ms": round(scrypt), "ratio": login / scrypt}
    print(
        f"login on the local stack: {login:.0f} ms; one scrypt N=2^17 hash: {scrypt:.0f} ms; "
        f"ratio {login / scrypt:.2f} (target <= {TARGET})"
    )
    save_results("login_cost", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
