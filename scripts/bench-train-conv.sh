#!/usr/bin/env bash
# Convolutional training speed side by side: one epoch of ResNet-20 and of VGG-11 (width 16,
# LayerNorm over the channels) on MNIST's 60,000 training images padded to 1×32×32, SGD lr
# 0.05 momentum 0.9, batch 128, both cores, in modulo and in PyTorch 1.13 (oneDNN, 2 threads).
#
#   modulo run: the figure a user sees. `modulo run` of a pipeline that trains the network
#            for 1 epoch and for 2 (cold caches, whole processes; the per-epoch evaluation
#            cut to 1 training and 1 test image): the marginal epoch is the 2-epoch run's
#            time minus the 1-epoch run's, so that process start, loading MNIST and storing
#            the network cancel out. Peak RSS of the 2-epoch run, measured by /usr/bin/time.
#   in-process: go test -bench 'EpochConv/MODEL$' -benchtime 1x ./nn/, the same epoch
#            without the engine; the gap between the two, in percent of the in-process one.
#   PyTorch: scripts/bench_train.py --model resnet20|vgg11 --width 16, torch.set_num_threads(2),
#            one epoch after a warm-up of a few steps, with its peak RSS (ru_maxrss).
#
# Targets (issues 16 and 21): modulo run >= 1.5x faster than PyTorch on both networks, the
# in-process epoch within 10% of modulo run's, and a peak RSS no higher than PyTorch's.
# GFLOP/s count nn.EpochFLOPs' arithmetic (the convolutions and the head, forward and
# backward) over the epoch. Missing a target is reported, not an error.
#
# Usage: scripts/bench-train-conv.sh   (or make bench-train; PYTHON=... picks the interpreter,
#        BENCH_CONV_MODELS="resnet20 vgg11" the networks, BENCH_CONV_ROUNDS=N the rounds: the
#        sides alternate and each figure is the fastest of its N, each round's own ratio printed
#        too; an epoch takes a minute or two, and on a shared host one round's marginal epoch is
#        only as good as its quiet)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

TARGET_RATIO=1.5
rounds=${BENCH_CONV_ROUNDS:-1}
py=$(torch_python)
mnist=$(mnist_dir)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "bench-train-conv: $(uptime | sed 's/^ *//')"
echo "bench-train-conv: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); python $py; MNIST $mnist"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
go build -o "$work/modulo" ./cmd/modulo
go test -c -o "$work/nn.test" ./nn/

# model_block NAME: the HCL model block of resnet20 or vgg11.
model_block() {
  case $1 in
  resnet20) printf '  model {\n    kind  = "resnet"\n    depth = 20\n    width = 16\n  }\n' ;;
  vgg11) printf '  model {\n    kind  = "vgg"\n    plan  = "vgg11"\n    width = 16\n  }\n' ;;
  esac
}

rows=()
lmin() { echo "$1" | tr ' ' '\n' | awk 'NF { if (m == "" || $1 < m) m = $1 } END { print m }'; }
for model in ${BENCH_CONV_MODELS:-resnet20 vgg11}; do
  m1s="" m2s="" i_secs="" t_secs="" m_kb=0
  for r in $(seq "$rounds"); do
    for e in 1 2; do
      cat >"$work/$model$e.hcl" <<HCL
dataset "mnist" {
  source      = "mnist"
  pad         = 2
  test_subset = 1
}

train "net" {
  data                = dataset.mnist
  seed                = 1
  epochs              = $e
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
      echo "== $model, round $r/$rounds, modulo run: $e epoch(s), cold cache"
      rm -rf "$work/cache"
      if ! clean_env /usr/bin/time -f 'TIME %e %M' env MODULO_CACHE="$work/cache" "$work/modulo" run -progress plain "$work/$model$e.hcl" >"$work/out" 2>&1; then
        cat "$work/out" >&2
        echo "bench-train-conv: modulo run failed" >&2
        exit 1
      fi
      grep -v '%)' "$work/out" | sed 's/^/   /'
      read -r sec kb < <(sed -n 's/^TIME //p' "$work/out")
      if [ "$e" = 1 ]; then m1s+=" $sec"; else m2s+=" $sec" m_kb=$((kb > m_kb ? kb : m_kb)); fi
    done
    rm -rf "$work/cache"

    echo "== $model, round $r/$rounds, in-process: go test -bench 'EpochConv/$model\$' -benchtime 1x ./nn/"
    if ! clean_env "$work/nn.test" -test.run '^$' -test.bench "EpochConv/$model\$" -test.benchtime 1x >"$work/out" 2>&1; then
      cat "$work/out" >&2
      echo "bench-train-conv: the in-process benchmark failed" >&2
      exit 1
    fi
    sed 's/^/   /' "$work/out"
    i_sec=$(awk '/^BenchmarkEpochConv/ { for (i = 1; i < NF; i++) if ($(i+1) == "best-s/epoch") b = $i } END { print b }' "$work/out")
    [ -n "$i_sec" ] || { echo "bench-train-conv: no best-s/epoch in the benchmark's output (skipped?)" >&2; exit 1; }
    i_secs+=" $i_sec"

    echo "== $model, round $r/$rounds, PyTorch: scripts/bench_train.py --model $model --width 16 --threads 2 --epochs 1"
    if ! clean_env "$py" scripts/bench_train.py --mnist "$mnist" --model "$model" --width 16 --threads 2 --epochs 1 --label "pytorch $model" >"$work/out" 2>&1; then
      cat "$work/out" >&2
      echo "bench-train-conv: bench_train.py failed" >&2
      exit 1
    fi
    sed 's/^/   /' "$work/out"
    field() { sed -n 's/^RESULT .*\b'"$1"'=\([^ ]*\).*/\1/p' "$work/out" | tail -n 1; }
    t_secs+=" $(field best_s)" t_mb=$(field peak_rss_mb) gflop=$(field gflop_epoch)
  done
  m1=$(lmin "$m1s") m2=$(lmin "$m2s") i_sec=$(lmin "$i_secs") t_sec=$(lmin "$t_secs")
  m_sec=$(awk "BEGIN { printf \"%.3f\", $m2 - $m1 }")
  echo "== $model: marginal epoch (fastest runs of $rounds) $m2 s - $m1 s = $m_sec s; in-process$i_secs s; PyTorch$t_secs s"
  # Each round's own ratio, its two sides minutes apart: on a shared host whose load drifts,
  # the fastest runs of the two sides may come from different rounds.
  echo "== $model: round by round, PyTorch / modulo run: $(awk -v a="$m1s" -v b="$m2s" -v t="$t_secs" 'BEGIN {
    n = split(a, m1, " "); split(b, m2, " "); split(t, ts, " ")
    for (i = 1; i <= n; i++) printf "%s%.2fx (%.1f / %.1f s)", (i > 1 ? ", " : ""), ts[i] / (m2[i] - m1[i]), ts[i], m2[i] - m1[i]
  }')"
  rows+=("$model $m_sec $i_sec $((m_kb / 1024)) $t_sec $t_mb $gflop")
done

verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "MISSED"; }
echo
echo "bench-train-conv: $(uptime | sed 's/^ *//')"
echo "One epoch of MNIST padded to 32×32 (60,000 images), width 16, LayerNorm, SGD lr 0.05 momentum 0.9, batch 128, 2 threads"
echo "CPU: $cpu_model, $(nproc) CPUs"
printf '  %-9s %12s %11s %6s %10s %8s %9s %9s %9s %9s   %s\n' "network" "modulo run s" "in-process" "gap" "PyTorch s" "ratio" "modulo GF/s" "torch GF/s" "modulo MB" "torch MB" "verdict (ratio >= $TARGET_RATIO, gap <= 10%, RSS <= PyTorch's)"
for r in "${rows[@]}"; do
  read -r model m_sec i_sec m_mb t_sec t_mb gflop <<<"$r"
  ratio=$(awk "BEGIN { printf \"%.2f\", $t_sec / $m_sec }")
  gap=$(awk "BEGIN { printf \"%.1f\", 100 * ($m_sec - $i_sec) / $i_sec }")
  printf '  %-9s %12.2f %11.2f %5.1f%% %10.1f %7.2fx %11.1f %10.1f %9d %9d   %s, %s, %s\n' "$model" "$m_sec" "$i_sec" "$gap" "$t_sec" "$ratio" \
    "$(awk "BEGIN { print $gflop / $m_sec }")" "$(awk "BEGIN { print $gflop / $t_sec }")" "$m_mb" "${t_mb%.*}" \
    "speed $(verdict "$ratio >= $TARGET_RATIO")" "gap $(verdict "$gap <= 10 && $gap >= -10")" "memory $(verdict "$m_mb <= ${t_mb%.*}")"
done
echo "  modulo run's figure is the marginal epoch of whole commands (2 epochs minus 1, cold caches); the in-process one"
echo "  the same epoch inside go test; PyTorch's the epoch alone. Peak RSS is the process's (modulo's 2-epoch run),"
echo "  libraries and data included, on both sides."
