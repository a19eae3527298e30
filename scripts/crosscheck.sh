#!/usr/bin/env bash
# Cross-check modulo's MLP against PyTorch on the same weights: train a small network on
# MNIST through the real CLI (784-128-64-10, 2 epochs, seed 1, SGD lr 0.05 momentum 0.9),
# export it, compute its test logits with modulo (scripts/nnlogits) and with PyTorch
# (scripts/crosscheck.py, load_state_dict strict), and compare: max |logit difference|
# <= 1e-4 and the same test accuracy to 4 decimals as `modulo show` reports. Exits non-zero
# if either check fails.
#
# Usage: scripts/crosscheck.sh   (or make crosscheck; PYTHON=... picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

py=$(torch_python)
mnist=$(mnist_dir)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MODULO_CACHE="$work/cache"

echo "crosscheck: $(uptime | sed 's/^ *//')"
echo "crosscheck: python $py, MNIST $mnist"
go build -o "$work/modulo" ./cmd/modulo

cat > "$work/crosscheck.hcl" <<'HCL'
dataset "mnist" {
  source = "mnist"
}

train "net" {
  data       = dataset.mnist
  seed       = 1
  epochs     = 2
  batch_size = 128

  model {
    hidden = [128, 64]
  }

  optimizer {
    kind     = "sgd"
    lr       = 0.05
    momentum = 0.9
  }
}
HCL

# run PRINTED_NAME CMD...: run CMD, keeping its output for when it fails.
run() {
  local what=$1
  shift
  if ! "$@" >"$work/out" 2>&1; then
    echo "crosscheck: $what failed: $*" >&2
    cat "$work/out" >&2
    exit 1
  fi
}

run "modulo run" "$work/modulo" run -progress plain "$work/crosscheck.hcl"
tail -n 1 "$work/out"
run "modulo export" "$work/modulo" export -p "$work/crosscheck.hcl" train.net final -o "$work/net.safetensors"
run "modulo show" "$work/modulo" show -p "$work/crosscheck.hcl" train.net
acc=$(awk '$1 == "test_accuracy" { print $2; exit }' "$work/out")
if [ -z "$acc" ]; then
  echo "crosscheck: no test_accuracy line in modulo show's output:" >&2
  cat "$work/out" >&2
  exit 1
fi
echo "modulo show train.net: test_accuracy $acc"

run "nnlogits" go run ./scripts/nnlogits -net "$work/net.safetensors" -out "$work/logits.f32" -mnist "$mnist"
cat "$work/out"
goacc=$(awk '$1 == "accuracy" { print $2; exit }' "$work/out")

# PyTorch runs on the OpenBLAS kernel modulo used (nnlogits prints it), so that the two
# differ only in what is being checked, the network's wiring; with another kernel the
# logits differ by float32 rounding (a few 1e-6 here), still far inside the tolerance.
# CROSSCHECK_CORETYPE=NAME picks another kernel, CROSSCHECK_CORETYPE=auto lets OpenBLAS choose.
kernel=$(sed -n 's/.*blas openblas, kernel \([A-Za-z0-9]*\),.*/\1/p' "$work/out")
core=${CROSSCHECK_CORETYPE:-$kernel}
if [ -n "$core" ] && [ "$core" != auto ]; then
  torch_env=("OPENBLAS_CORETYPE=$core")
else
  torch_env=()
  core="(unset: OpenBLAS chooses)"
fi
echo "PyTorch: OPENBLAS_CORETYPE=$core (modulo's kernel: ${kernel:-not OpenBLAS})"
clean_env env "${torch_env[@]}" \
  "$py" scripts/crosscheck.py --net "$work/net.safetensors" --logits "$work/logits.f32" \
  --mnist "$mnist" --modulo-acc "$acc" --nnlogits-acc "$goacc"
