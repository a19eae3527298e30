#!/usr/bin/env bash
# Convolutional training speed side by side: one epoch of ResNet-20 and of VGG-11 (width 16,
# LayerNorm over the channels) on MNIST's 60,000 training images padded to 1×32×32, SGD lr
# 0.05 momentum 0.9, batch 128, both cores, in modulo and in PyTorch 1.13 (oneDNN, 2 threads).
#
#   modulo:  the figure a user sees: `modulo run` of a pipeline that trains the network for
#            one epoch (a cold cache; the per-epoch evaluation cut to 1 training and 100 test
#            images), timed and its peak RSS measured by /usr/bin/time.
#   PyTorch: scripts/bench_train.py --model resnet20|vgg11 --width 16, torch.set_num_threads(2),
#            one epoch after a warm-up of a few steps, with its peak RSS (ru_maxrss).
#
# Targets (issue 16): modulo >= 1.5x faster than PyTorch on both networks, and a peak RSS no
# higher than PyTorch's. GFLOP/s count nn.EpochFLOPs' arithmetic (the convolutions and the
# head, forward and backward) over the epoch. Missing a target is reported, not an error.
#
# Usage: scripts/bench-train-conv.sh   (or make bench-train; PYTHON=... picks the interpreter,
#        BENCH_CONV_MODELS="resnet20 vgg11" the networks)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

TARGET_RATIO=1.5
py=$(torch_python)
mnist=$(mnist_dir)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "bench-train-conv: $(uptime | sed 's/^ *//')"
echo "bench-train-conv: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); python $py; MNIST $mnist"
go build -o "$work/modulo" ./cmd/modulo

# model_block NAME: the HCL model block of resnet20 or vgg11.
model_block() {
  case $1 in
  resnet20) printf '  model {\n    kind  = "resnet"\n    depth = 20\n    width = 16\n  }\n' ;;
  vgg11) printf '  model {\n    kind  = "vgg"\n    plan  = "vgg11"\n    width = 16\n  }\n' ;;
  esac
}

rows=()
for model in ${BENCH_CONV_MODELS:-resnet20 vgg11}; do
  cat >"$work/$model.hcl" <<HCL
dataset "mnist" {
  source      = "mnist"
  pad         = 2
  test_subset = 100
}

train "net" {
  data                = dataset.mnist
  seed                = 1
  epochs              = 1
  batch_size          = 128
  init                = "kaiming_normal"
  eval_train_examples = 1

$(model_block "$model")

  optimizer {
    lr       = 0.05
    momentum = 0.9
  }
}
HCL
  echo "== $model, modulo: modulo run (cold cache)"
  if ! clean_env /usr/bin/time -f 'TIME %e %M' env MODULO_CACHE="$work/cache-$model" "$work/modulo" run -progress plain "$work/$model.hcl" >"$work/out" 2>&1; then
    cat "$work/out" >&2
    echo "bench-train-conv: modulo run failed" >&2
    exit 1
  fi
  grep -v '%)' "$work/out" | sed 's/^/   /'
  read -r m_sec m_kb < <(sed -n 's/^TIME //p' "$work/out")

  echo "== $model, PyTorch: scripts/bench_train.py --model $model --width 16 --threads 2 --epochs 1"
  if ! clean_env "$py" scripts/bench_train.py --mnist "$mnist" --model "$model" --width 16 --threads 2 --epochs 1 --label "pytorch $model" >"$work/out" 2>&1; then
    cat "$work/out" >&2
    echo "bench-train-conv: bench_train.py failed" >&2
    exit 1
  fi
  sed 's/^/   /' "$work/out"
  field() { sed -n 's/^RESULT .*\b'"$1"'=\([^ ]*\).*/\1/p' "$work/out" | tail -n 1; }
  t_sec=$(field best_s) t_mb=$(field peak_rss_mb) gflop=$(field gflop_epoch)
  rows+=("$model $m_sec $((m_kb / 1024)) $t_sec $t_mb $gflop")
done

verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "MISSED"; }
echo
echo "bench-train-conv: $(uptime | sed 's/^ *//')"
echo "One epoch of MNIST padded to 32×32 (60,000 images), width 16, LayerNorm, SGD lr 0.05 momentum 0.9, batch 128, 2 threads"
printf '  %-9s %10s %10s %8s %9s %9s %9s %10s   %s\n' "network" "modulo s" "PyTorch s" "ratio" "modulo GF/s" "torch GF/s" "modulo MB" "torch MB" "verdict (ratio >= $TARGET_RATIO, RSS <= PyTorch's)"
for r in "${rows[@]}"; do
  read -r model m_sec m_mb t_sec t_mb gflop <<<"$r"
  ratio=$(awk "BEGIN { printf \"%.2f\", $t_sec / $m_sec }")
  printf '  %-9s %10.1f %10.1f %7.2fx %9.1f %10.1f %9d %10d   %s, %s\n' "$model" "$m_sec" "$t_sec" "$ratio" \
    "$(awk "BEGIN { print $gflop / $m_sec }")" "$(awk "BEGIN { print $gflop / $t_sec }")" "$m_mb" "${t_mb%.*}" \
    "speed $(verdict "$ratio >= $TARGET_RATIO")" "memory $(verdict "$m_mb <= ${t_mb%.*}")"
done
echo "  modulo's time is the whole command (loading MNIST, training, the short evaluations, storing); PyTorch's the"
echo "  epoch alone. Peak RSS is the process's, libraries and data included, on both sides."
