#!/usr/bin/env bash
# Training speed side by side: one epoch of 784-512-512-512-10 (ReLU) on MNIST's 60,000
# training images, SGD lr 0.05 momentum 0.9, batch 128, in modulo and in PyTorch.
#
#   modulo run: the figure a user sees. A pipeline (dataset + train node) run as a whole
#            process, the train node not cached (the dataset node is, as when a user
#            iterates), for 1 epoch and for N (BENCH_RUN_EPOCHS, 3): the marginal epoch is
#            the N-epoch run minus the 1-epoch run, divided by N - 1, so that process start,
#            loading MNIST, hashing and storing the network cancel out. (With 2 epochs and
#            the dataset node run cold in the same process, the marginal epochs of one
#            session ranged over 1.10-1.84 s while the in-process epoch stayed at
#            1.11-1.15 s: the difference of two whole runs doubles their noise, which N - 1
#            epochs divide.) The per-epoch evaluation is cut to ~nothing
#            (eval_train_examples = 1, test_subset = 1), as PyTorch's epochs below evaluate
#            nothing.
#   in-process: go test -bench EpochMNIST512 -benchtime 3x ./nn/ (3 epochs after a warm-up
#            epoch: the fastest, the mean, and GFLOP/s), the loop without the engine;
#            BenchmarkMarginalEpochMNIST512, the same loop's marginal epoch measured as
#            modulo run's is (nn.Train of 3 epochs minus nn.Train of 1, halved: its
#            marginalEpochs): the gap between modulo run and in-process compares these two
#            marginal epochs, like with like; and
#            scripts/gemmshare (the same run with every SGEMM call and every sparse product
#            of the first layer timed: the share of the epoch spent outside the matrix
#            products, and the share of the training steps that is neither a product nor a
#            core waiting for the other: the elementwise work).
#   PyTorch: scripts/bench_train.py, 3 epochs after a warm-up (the fastest and the mean),
#            tuned and with its defaults:
#            tuned   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2, torch.set_num_threads(1)
#            default no OpenBLAS variables, torch.set_num_threads(2)
#
# BLAS and OpenMP variables inherited from the shell (OPENBLAS_*, OMP_NUM_THREADS, ...) are
# removed for every run, so each side runs exactly the configuration named above.
# Targets (issue 21): PyTorch (tuned) / modulo run >= 2x (1.5x at the very least), the
# in-process epoch within 10% of modulo run's, the share outside the matrix products <= 15%.
# The sides run alternately, BENCH_ROUNDS times (5), so that the host's slow minutes (they
# cost a side 30-40% here) fall on all of them. The verdicts compare medians over the
# rounds: of each round's marginal epoch (from its N-epoch and 1-epoch runs), and of each
# side's fastest epoch in the round; the fastest figures over all rounds (noise only ever
# adds time) and the means are printed beside them. modulo
# multiplies only the non-zero inputs in the first layer (81% of MNIST's pixels are zero),
# so its GFLOP/s count the dense network's arithmetic. GFLOP/s are compared with 314
# GFLOP/s, the fp32 peak of a 2-core AVX-512 machine that the design doc uses as its
# reference. Missing a target is reported, not an error.
#
# Usage: scripts/bench-train.sh   (or make bench-train; PYTHON=... picks the interpreter,
#        BENCH_TORCH_CORETYPE=... the tuned PyTorch kernel, BENCH_ROUNDS=... the rounds,
#        BENCH_RUN_EPOCHS=... the longer modulo run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh

PEAK=314           # GFLOP/s, the design doc's fp32 reference peak
TARGET_RATIO=2.0   # PyTorch (tuned) / modulo run
FLOOR_RATIO=1.5    # the least acceptable
TARGET_GAP=10      # % modulo run's marginal epoch above the in-process one
TARGET_SHARE=15    # % of modulo's epoch outside the matrix products
torch_core=${BENCH_TORCH_CORETYPE:-SkylakeX}
rounds=${BENCH_ROUNDS:-5}
run_epochs=${BENCH_RUN_EPOCHS:-3}
if ! [[ "$run_epochs" =~ ^[0-9]+$ ]] || [ "$run_epochs" -lt 2 ]; then
  echo "bench-train: BENCH_RUN_EPOCHS must be a whole number of at least 2, got '$run_epochs'" >&2
  exit 1
fi

py=$(torch_python)
mnist=$(mnist_dir)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# step NAME CMD...: run CMD, show its output (indented) and keep it in $work/out.
step() {
  local name=$1
  shift
  echo "== $name"
  if ! "$@" >"$work/out" 2>&1; then
    sed 's/^/   /' "$work/out" >&2
    echo "bench-train: $name failed: $*" >&2
    exit 1
  fi
  sed 's/^/   /' "$work/out"
}
# field KEY: the value of KEY=VALUE on the RESULT line of $work/out.
field() { sed -n 's/^RESULT .*\b'"$1"'=\([^ ]*\).*/\1/p' "$work/out" | tail -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "MISSED"; }

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench-train: $(uptime | sed 's/^ *//')"
echo "bench-train: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); python $py; MNIST $mnist"
inherited=$(inherited_blas_env | tr '\n' ' ')
echo "bench-train: inherited BLAS variables removed for every run: ${inherited:-none}"

go build -o "$work/modulo" ./cmd/modulo
# pipeline EPOCHS: the user's pipeline, evaluation cut to one training and one test example.
pipeline() {
  cat <<HCL
dataset "mnist" {
  source      = "mnist"
  test_subset = 1
}

train "mlp" {
  data                = dataset.mnist
  seed                = 1
  epochs              = $1
  batch_size          = 128
  eval_train_examples = 1

  model {
    hidden = [512, 512, 512]
  }

  optimizer {
    lr       = 0.05
    momentum = 0.9
  }
}
HCL
}
pipeline 1 >"$work/mlp1.hcl"
pipeline "$run_epochs" >"$work/mlpN.hcl"
# The dataset node's result, cached once; each run starts from a copy of this cache.
echo "== modulo run: the dataset node, to cache it"
if ! clean_env env MODULO_CACHE="$work/warm" "$work/modulo" run -progress plain -target dataset.mnist "$work/mlp1.hcl" >"$work/out" 2>&1; then
  cat "$work/out" >&2
  echo "bench-train: modulo run of the dataset node failed" >&2
  exit 1
fi

# run_round N: modulo run of the 1-epoch and the N-epoch pipelines, each from the cache
# holding only the dataset; appends the whole processes' wall times to r1s and r2s.
r1s="" r2s=""
run_round() {
  local e sec
  for e in 1 N; do
    rm -rf "$work/cache"
    cp -r "$work/warm" "$work/cache"
    echo "== round $1/$rounds, modulo run: $([ $e = 1 ] && echo 1 || echo "$run_epochs") epoch(s), the train node not cached"
    if ! clean_env /usr/bin/time -f 'TIME %e' env MODULO_CACHE="$work/cache" "$work/modulo" run -progress plain "$work/mlp$e.hcl" >"$work/out" 2>&1; then
      cat "$work/out" >&2
      echo "bench-train: modulo run failed" >&2
      exit 1
    fi
    sec=$(sed -n 's/^TIME //p' "$work/out")
    grep -v '%)' "$work/out" | grep -v '^TIME' | sed 's/^/   /'
    echo "   whole process: $sec s"
    if [ "$e" = 1 ]; then r1s+=" $sec"; else r2s+=" $sec"; fi
  done
  rm -rf "$work/cache"
}

# modulo_round / torch_round N: one side's 3 timed epochs; each appends its fastest and mean
# epochs to the lists below.
m_bests="" m_means="" m_margs="" m_flops="" t_bests="" t_means=""
modulo_round() {
  step "round $1/$rounds, modulo: go test -bench '^BenchmarkEpochMNIST512$' -benchtime 3x ./nn/" \
    clean_env go test -run '^$' -bench '^BenchmarkEpochMNIST512$' -benchtime 3x ./nn/
  local sec best gflops
  read -r sec best gflops < <(awk '/^BenchmarkEpochMNIST512/ {
      for (i = 1; i < NF; i++) {
        if ($(i+1) == "s/epoch") s = $i; if ($(i+1) == "best-s/epoch") b = $i; if ($(i+1) == "GFLOP/s") g = $i
      }
    } END { print s, b, g }' "$work/out")
  if [ -z "${sec:-}" ] || [ -z "${best:-}" ] || [ -z "${gflops:-}" ]; then
    echo "bench-train: no s/epoch, best-s/epoch and GFLOP/s in the benchmark's output (skipped?)" >&2
    exit 1
  fi
  m_bests+=" $best" m_means+=" $sec" m_flops=$(calc %.6g "$gflops * $sec")
  step "round $1/$rounds, modulo: go test -bench MarginalEpochMNIST512 -benchtime 1x ./nn/" \
    clean_env go test -run '^$' -bench MarginalEpochMNIST512 -benchtime 1x ./nn/
  local marginal
  marginal=$(awk '/^BenchmarkMarginalEpochMNIST512/ { for (i = 1; i < NF; i++) if ($(i+1) == "marginal-s/epoch") m = $i } END { print m }' "$work/out")
  if [ -z "$marginal" ]; then
    echo "bench-train: no marginal-s/epoch in the benchmark's output (skipped?)" >&2
    exit 1
  fi
  m_margs+=" $marginal"
}
torch_round() {
  step "round $1/$rounds, PyTorch tuned: OPENBLAS_CORETYPE=$torch_core OPENBLAS_NUM_THREADS=2, torch.set_num_threads(1)" \
    clean_env env OPENBLAS_CORETYPE="$torch_core" OPENBLAS_NUM_THREADS=2 \
    "$py" scripts/bench_train.py --mnist "$mnist" --threads 1 --epochs 3 --label "pytorch tuned"
  t_bests+=" $(field best_s)" t_means+=" $(field mean_s)"
  t_desc="OpenBLAS $(field blas_core) x$(field blas_threads), torch threads $(field torch_threads)"
  torch_default_threads=$(field torch_default_threads)
}
# The host's slow minutes cost a side 30-40%; alternating the sides over rounds lets them
# fall on both.
for r in $(seq "$rounds"); do
  run_round "$r"
  modulo_round "$r"
  torch_round "$r"
done
lmin() { echo "$1" | tr ' ' '\n' | awk 'NF { if (m == "" || $1 < m) m = $1 } END { print m }'; }
lmean() { echo "$1" | tr ' ' '\n' | awk 'NF { s += $1; n++ } END { printf "%.4f", s / n }'; }
m_best=$(lmin "$m_bests") m_sec=$(lmean "$m_means") t_sec=$(lmin "$t_bests") t_mean=$(lmean "$t_means")
m_gflops=$(calc %.1f "$m_flops / $m_sec")
lmedian() { echo "$1" | tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { printf "%.4f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
r1=$(lmin "$r1s") r2=$(lmin "$r2s")
more=$((run_epochs - 1))
run_min=$(calc %.4f "($r2 - $r1) / $more")
run_mean=$(calc %.4f "($(lmean "$r2s") - $(lmean "$r1s")) / $more")
# Each round's marginal epoch is from its N-epoch and 1-epoch runs, run back to back;
# the host's speed drifts by tens of percent over minutes, so these pairs (and the median
# over rounds, beside the same median of each side's fastest epoch by round) compare like
# with like better than the fastest runs of different rounds.
diffs=$(paste -d' ' <(echo $r2s | tr ' ' '\n') <(echo $r1s | tr ' ' '\n') | awk -v n="$more" '{ printf " %.4f", ($1 - $2) / n }')
run_sec=$(lmedian "$diffs") m_med=$(lmedian "$m_bests") t_med=$(lmedian "$t_bests")
m_marg=$(lmedian "$m_margs")

step "modulo: go run ./scripts/gemmshare -runs 3 (matrix products timed)" clean_env go run ./scripts/gemmshare -runs 3
g_total=$(field total_s) g_gemm=$(field gemm_s) g_sparse=$(field sparse_s) g_wait=$(field wait_s) g_share=$(field share) g_gemm_gflops=$(field gemm_gflops)
g_loop=$(field loop_s) g_elem=$(field elementwise)
m_blas="$(field blas) $(field kernel), $(field threads) threads"

step "PyTorch defaults: no OpenBLAS variables, torch.set_num_threads(2)" \
  clean_env "$py" scripts/bench_train.py --mnist "$mnist" --threads 2 --epochs 3 --label "pytorch default"
d_sec=$(field best_s) d_desc="OpenBLAS $(field blas_core) x$(field blas_threads), torch threads $(field torch_threads)"

torch_version=$("$py" -c 'import torch; print(torch.__version__)')
ratio=$(calc %.4f "$t_med / $run_sec")
in_ratio=$(calc %.4f "$t_med / $m_med")
min_ratio=$(calc %.4f "$t_sec / $run_min")
mean_ratio=$(calc %.4f "$t_mean / $run_mean")
gap=$(calc %.2f "100 * ($run_sec - $m_marg) / $m_marg")
share_pct=$(calc %.2f "100 * $g_share")
elem_pct=$(calc %.2f "100 * $g_elem")
echo
echo "bench-train: $(uptime | sed 's/^ *//')"
echo "One epoch of MNIST (60,000 images), MLP 784-512-512-512-10 ReLU, SGD lr 0.05 momentum 0.9, batch 128"
echo "CPU: $cpu_model, $(nproc) CPUs"
n=$((3 * rounds))
printf '  %-44s %9s %11s   %s\n' "" "s/epoch" "PyTorch /" "configuration"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo run, marginal epoch (median of $rounds)" "$run_sec" "$ratio" "$m_blas; by round (($run_epochs epochs - 1) / $more):$diffs s"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo in-process (go test, median of $rounds)" "$m_med" "$in_ratio" "$m_blas; fastest epoch of each round"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo in-process, marginal epoch (median)" "$m_marg" "$(calc %.4f "$t_med / $m_marg")" "by round ((3 epochs - 1) / 2, in one process):$m_margs s"
printf '  %-44s %9.3f %11s   %s\n' "PyTorch $torch_version tuned (median of $rounds)" "$t_med" "1.00x" "$t_desc; fastest epoch of each round"
echo
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo run, fastest N-epoch - fastest 1-epoch" "$run_min" "$min_ratio" "N = $run_epochs, per epoch; $run_epochs epochs:$r2s s; 1 epoch:$r1s s"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo run, marginal epoch (means)" "$run_mean" "$mean_ratio" "vs PyTorch's mean"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo in-process (go test, fastest of $n)" "$m_best" "$(calc %.4f "$t_sec / $m_best")" "$m_blas"
printf '  %-44s %9.3f %11s   %s\n' "modulo in-process (go test, mean of $n)" "$m_sec" "" "$m_blas"
printf '  %-44s %9.3f %10.2fx   %s\n' "modulo in-process (gemmshare, fastest of 3)" "$g_total" "$(calc %.4f "$t_sec / $g_total")" "$m_blas, products timed"
printf '  %-44s %9.3f %11s   %s\n' "PyTorch $torch_version tuned (fastest of $n)" "$t_sec" "" "$t_desc"
printf '  %-44s %9.3f %11s   %s\n' "PyTorch $torch_version tuned (mean of $n)" "$t_mean" "" "$t_desc"
printf '  %-44s %9.3f %10.2fx   %s\n' "PyTorch $torch_version defaults (fastest of 3)" "$d_sec" "$(calc %.4f "$t_sec / $d_sec")" "$d_desc"
echo "  fastest epoch by round (in-process / PyTorch tuned): $(paste -d/ <(echo $m_bests | tr ' ' '\n') <(echo $t_bests | tr ' ' '\n') | tr '\n' ' ')"
echo
printf '  %-52s %10s   %s\n' "target" "measured" "verdict"
printf '  %-52s %9.2fx   %s\n' "PyTorch tuned / modulo run (medians) >= ${TARGET_RATIO}x" "$ratio" "$(verdict "$ratio >= $TARGET_RATIO")"
printf '  %-52s %9.2fx   %s\n' "PyTorch tuned / modulo run (medians) >= ${FLOOR_RATIO}x" "$ratio" "$(verdict "$ratio >= $FLOOR_RATIO")"
# One-sided: the engine can only add time; a negative gap (modulo run's marginal epoch below
# the in-process one) is the host's noise, which is of the order of 30% between rounds here.
printf '  %-52s %9.1f%%   %s\n' "modulo run at most $TARGET_GAP% above in-process (marginal)" "$gap" "$(verdict "$gap <= $TARGET_GAP")"
printf '  %-52s %9.1f%%   %s\n' "modulo outside the products (gemmshare) <= $TARGET_SHARE%" "$share_pct" "$(verdict "$share_pct <= $TARGET_SHARE")"
printf '  %-52s %9.1f%%   %s\n' "  of the steps, neither products nor waits <= $TARGET_SHARE%" "$elem_pct" "$(verdict "$elem_pct <= $TARGET_SHARE")"
echo
printf '  modulo dense-equivalent GFLOP/s over the epoch (go test): %6.1f = %5.1f%% of %d GFLOP/s\n' \
  "$m_gflops" "$(calc %.2f "100 * $m_gflops / $PEAK")" "$PEAK"
printf '  modulo GFLOP/s inside SGEMM calls (gemmshare):            %6.1f = %5.1f%% of %d GFLOP/s\n' \
  "$g_gemm_gflops" "$(calc %.2f "100 * $g_gemm_gflops / $PEAK")" "$PEAK"
printf '  gemmshare fastest epoch, per core: %.3f s = %.3f s in SGEMM + %.3f s in sparse products + %.3f s the rest\n' \
  "$g_total" "$g_gemm" "$g_sparse" "$(calc %.4f "$g_total - $g_gemm - $g_sparse")"
printf '  (of the rest, %.3f s waiting for the other core, and %.3f s outside\n' "$g_wait" "$(calc %.4f "$g_total - $g_loop")"
printf '  the steps: initialising the network and its buffers, the evaluations)\n'
echo "  $PEAK GFLOP/s is the design doc's reference fp32 peak for a 2-core AVX-512 machine, not a"
echo "  measurement (measured rates can exceed it). PyTorch's own default here is torch.get_num_threads()"
echo "  = $torch_default_threads; the defaults line sets 2 and leaves OpenBLAS to choose its kernel and threads."
