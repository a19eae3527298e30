#!/usr/bin/env bash
# Cross-check modulo's weight matching and barriers on convolutional networks (open_lth's
# ResNet-20 and VGG-11, both with LayerNorm, width 8) with numpy, scipy and PyTorch, as
# scripts/crosscheck-align.sh does for MLPs: run scripts/testdata/crosscheck-align-conv.hcl
# (for each kind, two networks trained on 10,000 MNIST images from seeds 1 and 2,
# match.wm aligns the second to the first by weight matching, interpolate.before and
# interpolate.after measure the straight line between them before and after, on the first
# 2,000 training and 2,000 test images) through the real CLI in a temporary cache, export
# the networks, the permutation and the aligned network, read the objective and the barriers
# from `modulo show`, and have scripts/crosscheck_align_conv.py recompute them from a
# permutation spec it builds itself from the tensor names (Git Re-Basin's
# resnet20_permutation_spec and vgg16_permutation_spec):
#   a. the objective of modulo's permutation in float64 (relative 1e-6);
#   b. the permutation applied in numpy gives the aligned network bit for bit;
#   c. the permutation is a fixed point of the published coordinate descent (1e-9 relative);
#   d. numpy + scipy weight matching from the identity (8 random group orders): objectives
#      and the units placed as modulo places them, reported; modulo's objective may be
#      below the best of them by at most 0.5%;
#   e. PyTorch's interpolation curves give the same 8 barriers within 1e-3;
#   f. reported: PyTorch's barriers with Python's best weight-matching permutation beside
#      modulo's, to tell a bug in modulo from a property of the networks (EVERY_RUN=1: the
#      test barriers of all 8 of Python's runs too, about 2 more minutes);
#   g. PyTorch's logits of B and of both permuted B agree (the spec is a symmetry).
# Prints a table per kind and OK, or FAIL and exits non-zero. About 5 minutes on 2 cores.
#
# Usage: scripts/crosscheck-align-conv.sh [resnet|vgg ...]   (or make crosscheck-align-conv;
# both kinds by default; PYTHON=... picks the interpreter, which needs torch, numpy and
# scipy; NICE=19 runs the heavy commands under nice -n 19; the pipeline's variables are
# set as usual, e.g. MODULO_VAR_train_subset=30000 MODULO_VAR_batch_size=128 for the
# networks of examples/resnet_width.hcl; JSON=DIR keeps the numbers, DIR/KIND.json)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then kinds=(resnet vgg); fi
for k in "${kinds[@]}"; do
  case $k in
  resnet | vgg) ;;
  *)
    echo "crosscheck-align-conv: unknown kind $k; give resnet, vgg or both" >&2
    exit 1
    ;;
  esac
done
kinds_hcl=$(printf '"%s",' "${kinds[@]}")
kinds_hcl="[${kinds_hcl%,}]"

py=$(torch_python)
if ! "$py" -c 'import scipy.optimize' >/dev/null 2>&1; then
  echo "crosscheck-align-conv: $py cannot import scipy; install python3-scipy with apt-get" \
    "(as root: apt-get install python3-scipy)" >&2
  exit 1
fi
mnist=$(mnist_dir)
nice=()
if [ -n "${NICE:-}" ]; then nice=(nice -n "$NICE"); fi
if [ -n "${JSON:-}" ]; then mkdir -p "$JSON"; JSON=$(cd "$JSON" && pwd); fi

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MODULO_CACHE="$work/cache"
pipe=scripts/testdata/crosscheck-align-conv.hcl

echo "crosscheck-align-conv: $(uptime | sed 's/^ *//')"
echo "crosscheck-align-conv: python $py, MNIST $mnist, pipeline $pipe, kinds ${kinds[*]}"
inherited=$(inherited_blas_env | tr '\n' ' ')
if [ -n "$inherited" ]; then
  echo "crosscheck-align-conv: running without the inherited $inherited"
fi
go build -o "$work/modulo" ./cmd/modulo

# run PRINTED_NAME CMD...: run CMD quietly at the chosen niceness (see run_logged in
# torch-env.sh).
run() { run_logged "$1" "${nice[@]}" "${@:2}"; }

m="$work/modulo"
vars=(-var "kinds=$kinds_hcl")
run "modulo run" "$m" run -progress plain "${vars[@]}" "$pipe"
sed -n '/ ran, /,$p' "$work/out"
echo "crosscheck-align-conv: modulo's pipeline took $(($(date +%s) - start)) s"

rc=0
for k in "${kinds[@]}"; do
  d="$work/$k"
  mkdir -p "$d"
  pad=0
  if [ "$k" = vgg ]; then pad=2; fi
  run "modulo export" "$m" export -p "$pipe" "${vars[@]}" "train.net[\"$k-1\"]" final -o "$d/a.safetensors"
  run "modulo export" "$m" export -p "$pipe" "${vars[@]}" "train.net[\"$k-2\"]" final -o "$d/b.safetensors"
  run "modulo export" "$m" export -p "$pipe" "${vars[@]}" "match.wm[\"$k\"]" permutation -o "$d/perm.safetensors"
  run "modulo export" "$m" export -p "$pipe" "${vars[@]}" "match.wm[\"$k\"]" aligned -o "$d/aligned.safetensors"
  echo
  for n in "train.net[\"$k-1\"]" "train.net[\"$k-2\"]"; do
    run "modulo show" "$m" show -p "$pipe" "${vars[@]}" "$n"
    echo "modulo show $n: $(grep -E '^  test_accuracy ' "$work/out" | sed 's/^ *//')"
  done
  for n in match.wm interpolate.before interpolate.after; do
    run "modulo show" "$m" show -p "$pipe" "${vars[@]}" "$n[\"$k\"]"
    cp "$work/out" "$d/show-$n.txt"
    echo "modulo show $n[\"$k\"]:"
    # The outputs that are numbers; the curve, artifacts and provenance are for the script.
    grep -E '^  (objective|iterations|loss_barrier|error_barrier) ' "$work/out"
  done
  echo
  clean_env "${nice[@]}" "$py" scripts/crosscheck_align_conv.py --label "$k" \
    --a "$d/a.safetensors" --b "$d/b.safetensors" \
    --perm "$d/perm.safetensors" --aligned "$d/aligned.safetensors" \
    --show-match "$d/show-match.wm.txt" \
    --show-before "$d/show-interpolate.before.txt" \
    --show-after "$d/show-interpolate.after.txt" \
    --mnist "$mnist" --pad "$pad" --train-examples 2000 --test-examples 2000 \
    ${EVERY_RUN:+--every-run} ${JSON:+--json "$JSON/$k.json"} || rc=1
  echo
done
echo "crosscheck-align-conv: $(($(date +%s) - start)) s in all"
if [ $rc -ne 0 ]; then
  echo "crosscheck-align-conv: FAIL" >&2
fi
exit $rc
