#!/usr/bin/env bash
# results.sh: runs every example pipeline cold (in a fresh cache) and warm, exports each
# report into docs/results/NAME/ and prints the wall times, the figures behind
# docs/RESULTS.md. Takes about 20 minutes on 2 cores for the MLP examples, and up to 30
# minutes more for each convolutional one (resnet_width, conv_trajectory, conv_imp).
# RESULTS_EXAMPLES="..." picks the examples.
#
#   scripts/results.sh [CACHE_DIR]    (default: a temporary directory, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
cache=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$cache"' EXIT
mkdir -p "$cache"
export MODULO_CACHE=$cache
printf '%-12s %10s %10s\n' example cold_s warm_s
for ex in ${RESULTS_EXAMPLES:-quickstart imp wlc trajectory width resnet_width conv_trajectory conv_imp}; do
  s=$(date +%s.%N)
  mkdir -p docs/results
  bin/modulo run -progress plain "examples/$ex.hcl" > "docs/results/$ex.out" 2> "$cache/$ex.log" || { tail "$cache/$ex.log"; exit 1; }
  m=$(date +%s.%N)
  bin/modulo run -progress plain "examples/$ex.hcl" > /dev/null 2>&1
  e=$(date +%s.%N)
  report=$(sed -n 's/^report "\([a-z_]*\)".*/\1/p' "examples/$ex.hcl" | head -1)
  rm -rf "docs/results/$ex"
  bin/modulo export -p "examples/$ex.hcl" "report.$report" -o "docs/results/$ex" > /dev/null
  # The docs keep the PNGs and the tables; the SVGs and index.html are in the cache.
  rm -f docs/results/"$ex"/*.svg docs/results/"$ex"/*.json docs/results/"$ex"/index.html
  printf '%-12s %10.1f %10.2f\n' "$ex" "$(echo "$m - $s" | bc)" "$(echo "$e - $m" | bc)"
done
