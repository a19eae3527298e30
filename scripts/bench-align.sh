#!/usr/bin/env bash
# make bench-align: the alignment figures side by side, in one run.
#   1. the LAP solver against scipy.optimize.linear_sum_assignment on 512² and 2048²
#      uniform and weight-matching-like matrices (target: at least scipy's speed on each);
#   2. weight matching of two 784-512-512-512-10 networks (target: ≤ 100 ms);
#   3. a 25-point interpolation on 10,000 train + 10,000 test MNIST examples (target: ≤ 6 s).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3-scipy is for /usr/bin/python3 (a pyenv shim first on PATH lacks it).
py=${PYTHON:-/usr/bin/python3}
if ! "$py" -c 'import scipy' 2>/dev/null; then
  scripts/ensure-deb.sh python3-scipy /usr/lib/python3/dist-packages/scipy/__init__.py
fi
# Inherited OpenBLAS settings would slow scipy's and PyTorch's side only; modulo picks its
# own kernel. Remove them so both sides run as configured here.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
echo "bench-align: $(uptime)"
echo "== 1. linear assignment, modulo vs scipy"
"$py" scripts/bench_lap.py
echo "== 2. weight matching, 784-512-512-512-10 (target ≤ 100 ms)"
go test -run '^$' -bench 'WeightMatch784x512x3$' -benchtime 10x ./nn/perm/ | grep -E '^Benchmark'
echo "== 3. 25-point interpolation, 10,000 train + 10,000 test examples (target ≤ 6 s)"
go test -run '^$' -bench 'Curve25$' -benchtime 2x ./nn/ | grep -E '^Benchmark'
echo "bench-align: $(uptime)"
