#!/usr/bin/env bash
# Cross-check modulo against PyTorch on the same weights, for an MLP, a ResNet-20 and a
# VGG-11 (both width 16, LayerNorm). Each network is trained on MNIST through the real CLI
# (the MLP 784-128-64-10 for 2 epochs; the conv nets 1 epoch on 2,000 images padded to 32×32),
# exported, and then:
#   - its test logits are computed by modulo (scripts/nnlogits) and by PyTorch modules with
#     open_lth's names (scripts/crosscheck.py, load_state_dict strict): max |logit
#     difference| <= 1e-4 and the same test accuracy to 4 decimals as `modulo show` reports;
#   - one SGD step (lr 0.05, momentum 0.9, weight decay 1e-4) on a batch of 128 training
#     images is taken by modulo's trainer (scripts/nnstep) and by torch.optim.SGD
#     (scripts/torch_step.py): every parameter within 1e-5.
# Exits non-zero if any check fails. CROSSCHECK_KINDS="mlp resnet vgg" picks the networks.
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
echo "crosscheck: python $py, MNIST $mnist, CPU $(lscpu | sed -n 's/^Model name: *//p')"
go build -o "$work/modulo" ./cmd/modulo
go build -o "$work/nnlogits" ./scripts/nnlogits
go build -o "$work/nnstep" ./scripts/nnstep

cat > "$work/crosscheck.hcl" <<'HCL'
dataset "mnist" {
  source = "mnist"
}

dataset "padded" {
  source       = "mnist"
  pad          = 2
  train_subset = 2000
}

train "mlp" {
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

train "resnet" {
  data       = dataset.padded
  seed       = 1
  epochs     = 1
  init       = "kaiming_normal"
  batch_size = 128

  model {
    kind  = "resnet"
    depth = 20
    width = 16
  }

  optimizer {
    kind     = "sgd"
    lr       = 0.05
    momentum = 0.9
  }
}

train "vgg" {
  data       = dataset.padded
  seed       = 1
  epochs     = 1
  init       = "kaiming_normal"
  batch_size = 128

  model {
    kind  = "vgg"
    plan  = "vgg11"
    width = 16
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

# check KIND: the logits and the step check of train.KIND.
check() {
  local kind=$1 net="$work/$1.safetensors"
  echo
  echo "== $kind"
  run "modulo run" "$work/modulo" run -progress plain -target "train.$kind" "$work/crosscheck.hcl"
  tail -n 1 "$work/out"
  run "modulo export" "$work/modulo" export -p "$work/crosscheck.hcl" "train.$kind" final -o "$net"
  run "modulo show" "$work/modulo" show -p "$work/crosscheck.hcl" "train.$kind"
  local acc
  acc=$(awk '$1 == "test_accuracy" { print $2; exit }' "$work/out")
  if [ -z "$acc" ]; then
    echo "crosscheck: no test_accuracy line in modulo show's output:" >&2
    cat "$work/out" >&2
    exit 1
  fi
  echo "modulo show train.$kind: test_accuracy $acc"

  run "nnlogits" "$work/nnlogits" -net "$net" -out "$work/logits.f32" -mnist "$mnist"
  cat "$work/out"
  local goacc kernel core
  goacc=$(awk '$1 == "accuracy" { print $2; exit }' "$work/out")

  # PyTorch runs on the OpenBLAS kernel modulo used (nnlogits prints it), so that the two
  # differ only in what is being checked, the network's wiring; with another kernel the
  # logits differ by float32 rounding (a few 1e-6 here), still far inside the tolerance.
  # CROSSCHECK_CORETYPE=NAME picks another kernel, CROSSCHECK_CORETYPE=auto lets OpenBLAS
  # choose. (PyTorch's convolutions run on oneDNN whatever the kernel.)
  kernel=$(sed -n 's/.*blas openblas, kernel \([A-Za-z0-9]*\),.*/\1/p' "$work/out")
  core=${CROSSCHECK_CORETYPE:-$kernel}
  # modulo multiplies with single-threaded OpenBLAS calls (its own goroutines split the
  # work, never along the sum), so PyTorch's OpenBLAS runs one thread too: an OpenBLAS GEMM
  # split among its own threads sums in another order. With the same kernel an MLP's logits
  # are then bit-identical, and the check requires it.
  exact=()
  if [ -n "$core" ] && [ "$core" != auto ]; then
    torch_env=("OPENBLAS_CORETYPE=$core" OPENBLAS_NUM_THREADS=1)
    if [ "$kind" = mlp ] && [ "$core" = "$kernel" ]; then exact=(--identical); fi
  else
    torch_env=()
    core="(unset: OpenBLAS chooses its kernel and threads)"
  fi
  echo "PyTorch: OPENBLAS_CORETYPE=$core${torch_env[1]:+, OPENBLAS_NUM_THREADS=1} (modulo's kernel: ${kernel:-not OpenBLAS})${exact:+; logits must be bit-identical}"
  clean_env env "${torch_env[@]}" \
    "$py" scripts/crosscheck.py --net "$net" --logits "$work/logits.f32" \
    --mnist "$mnist" --modulo-acc "$acc" --nnlogits-acc "$goacc" "${exact[@]}"

  run "nnstep" "$work/nnstep" -net "$net" -images "$work/x.f32" -labels "$work/y.u8" \
    -out "$work/step.safetensors" -mnist "$mnist" -batch 128 -lr 0.05 -momentum 0.9 -weight-decay 1e-4
  cat "$work/out"
  clean_env env "${torch_env[@]}" \
    "$py" scripts/torch_step.py --net "$net" --images "$work/x.f32" --labels "$work/y.u8" \
    --lr 0.05 --momentum 0.9 --weight-decay 1e-4 --out "$work/torch_step.safetensors" \
    --compare "$work/step.safetensors" --tol 1e-5
}

for kind in ${CROSSCHECK_KINDS:-mlp resnet vgg}; do
  check "$kind"
done
echo
echo "crosscheck: every check passed"
