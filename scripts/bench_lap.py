#!/usr/bin/python3
"""Time modulo's LAP solver (nn/lap) against scipy.optimize.linear_sum_assignment.

The Go side makes the matrices, so both solve the very same ones: the test
TestWriteBenchMatrices (run when $LAP_BENCH_DIR is set) writes each n×n matrix as raw
little-endian float64, row-major, into a temporary directory, with modulo.json listing
them, modulo's optimal totals and modulo's times (best of 5 after a warm-up). This script
times scipy the same way on each matrix, checks that the two totals agree to 1e-9
relative, and prints a table. It exits non-zero on a mismatch.

Run from anywhere in the repository with the system Python, which has numpy and scipy:

    /usr/bin/python3 scripts/bench_lap.py

$GO names the go command (default: go).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy
from scipy.optimize import linear_sum_assignment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL_TOL = 1e-9


def best_of(f, repeats=5):
    f()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    go = os.environ.get("GO", "go")
    with tempfile.TemporaryDirectory(prefix="bench_lap.") as tmp:
        env = dict(os.environ, LAP_BENCH_DIR=tmp)
        subprocess.run(
            [go, "test", "-count=1", "-run", "^TestWriteBenchMatrices$", "./nn/lap/"],
            cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "modulo.json")) as f:
            cases = json.load(f)

        print(f"scipy {scipy.__version__}, numpy {np.__version__}; best of 5 after a warm-up")
        header = f"{'matrix':<14} {'sense':<5} {'modulo ms':>10} {'scipy ms':>10} {'scipy/modulo':>13}  totals agree"
        print(header)
        print("-" * len(header))
        ok = True
        for c in cases:
            n = c["n"]
            cost = np.fromfile(os.path.join(tmp, c["file"]), dtype="<f8").reshape(n, n)
            maximize = c["maximize"]
            rows, cols = linear_sum_assignment(cost, maximize=maximize)
            total = float(cost[rows, cols].sum())
            sec = best_of(lambda: linear_sum_assignment(cost, maximize=maximize))
            rel = abs(total - c["total"]) / max(1.0, abs(total), abs(c["total"]))
            agree = rel <= REL_TOL
            ok = ok and agree
            name = f"{c['kind']} {n}²"
            sense = "max" if maximize else "min"
            verdict = f"yes ({rel:.1e})" if agree else f"NO: scipy {total!r}, modulo {c['total']!r}"
            print(f"{name:<14} {sense:<5} {c['ms']:>10.2f} {sec * 1e3:>10.2f} {sec * 1e3 / c['ms']:>12.2f}×  {verdict}")
    if not ok:
        sys.exit("bench_lap: totals differ")


if __name__ == "__main__":
    main()
