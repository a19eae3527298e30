#!/usr/bin/env bash
# Cross-check modulo's weight matching and barriers with numpy, scipy and PyTorch: run the
# quickstart (examples/quickstart.hcl: two 784-128-128-10 MLPs trained on MNIST from seeds
# 1 and 2, match.seeds aligns the second to the first by weight matching, interpolate.before
# and interpolate.after measure the straight line between them before and after) through
# the real CLI in a temporary cache, export both networks, the permutation and the aligned
# network, read the objective and the barriers from `modulo show`, and have
# scripts/crosscheck_align.py recompute them independently:
#   1. the objective of modulo's permutation in float64 (relative 1e-6);
#   2. the permutation applied in numpy gives the aligned network bit for bit;
#   3. the permutation is a fixed point of the published coordinate descent (1e-9 relative);
#   4. numpy + scipy weight matching from the identity reaches an objective within 0.5%;
#   5. PyTorch's interpolation curves give the same 8 barriers within 1e-3;
#   6. REPAIR recomputed in PyTorch (statistics of A and P(B) on the first 10,000 training
#      images, each inner point reset layer by layer) gives modulo's repaired curve: every
#      point's loss within 1e-4 and its errors within one image;
#   7. learned matching's kept permutation, applied in numpy, gives a midpoint whose loss on
#      the first 10,000 training images in PyTorch is the objective modulo reports (1e-4).
# Prints a table and OK, or FAIL and exits non-zero.
#
# Usage: scripts/crosscheck-align.sh   (or make crosscheck-align; PYTHON=... picks the
# interpreter, which needs torch, numpy and scipy)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

py=$(torch_python)
if ! "$py" -c 'import scipy.optimize' >/dev/null 2>&1; then
  echo "crosscheck-align: $py cannot import scipy; install python3-scipy with apt-get" \
    "(as root: apt-get install python3-scipy)" >&2
  exit 1
fi
mnist=$(mnist_dir)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MODULO_CACHE="$work/cache"
# The quickstart, plus the aligned line reset by REPAIR (check 6).
pipe="$work/quickstart.hcl"
cp examples/quickstart.hcl "$pipe"
cat >> "$pipe" <<'HCL'

interpolate "repaired" {
  a      = train.net["1"].final
  b      = match.seeds.aligned
  data   = dataset.mnist
  repair = true
}

match "ste" {
  reference = train.net["1"].final
  target    = train.net["2"].final
  method    = "ste"
  data      = dataset.mnist
}
HCL

echo "crosscheck-align: $(uptime | sed 's/^ *//')"
echo "crosscheck-align: python $py, MNIST $mnist, pipeline $pipe"
inherited=$(inherited_blas_env | tr '\n' ' ')
if [ -n "$inherited" ]; then
  echo "crosscheck-align: running without the inherited $inherited"
fi
go build -o "$work/modulo" ./cmd/modulo

# run PRINTED_NAME CMD...: run CMD quietly (see run_logged in torch-env.sh).
run() { run_logged "$@"; }

m="$work/modulo"
run "modulo run" "$m" run -progress plain "$pipe"
sed -n '/ ran, /,$p' "$work/out"
run "modulo export" "$m" export -p "$pipe" 'train.net["1"]' final -o "$work/a.safetensors"
run "modulo export" "$m" export -p "$pipe" 'train.net["2"]' final -o "$work/b.safetensors"
run "modulo export" "$m" export -p "$pipe" match.seeds permutation -o "$work/perm.safetensors"
run "modulo export" "$m" export -p "$pipe" match.seeds aligned -o "$work/aligned.safetensors"
run "modulo export" "$m" export -p "$pipe" match.ste permutation -o "$work/ste-perm.safetensors"
for n in match.seeds interpolate.before interpolate.after interpolate.repaired match.ste; do
  run "modulo show" "$m" show -p "$pipe" "$n"
  cp "$work/out" "$work/show-$n.txt"
  echo "modulo show $n:"
  # The outputs that are numbers; the curve, artifacts and provenance are for the script.
  grep -E '^  (objective|iterations|loss_barrier|error_barrier) ' "$work/out"
done
echo

clean_env "$py" scripts/crosscheck_align.py \
  --a "$work/a.safetensors" --b "$work/b.safetensors" \
  --perm "$work/perm.safetensors" --aligned "$work/aligned.safetensors" \
  --show-match "$work/show-match.seeds.txt" \
  --show-before "$work/show-interpolate.before.txt" \
  --show-after "$work/show-interpolate.after.txt" \
  --show-repaired "$work/show-interpolate.repaired.txt" \
  --show-ste "$work/show-match.ste.txt" --ste-perm "$work/ste-perm.safetensors" \
  --mnist "$mnist"
