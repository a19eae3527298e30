#!/usr/bin/env bash
# The plan a user waits for: `modulo plan` of a 10,000-node pipeline whose results are all
# cached, timed as a whole process (start, parse, for_each, state, keys, lookups, output),
# right after an edit of the pipeline file (so the no-op record cannot answer and every node
# is planned) and unchanged (answered from the no-op record). BenchmarkPlan10000 times the
# same plan inside a warm test process; this is the figure beside it. Prints the CPU model
# (figures differ by machine), the best and median of the runs, and the median run's peak
# RSS and minor page faults: a fresh process pays for every page it touches (the count
# includes the pages internal/prefault maps in bulk, which cost far less each).
#
# Usage: scripts/bench-plan.sh [RUNS, default 7]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench-plan: needs bash 5 or later (EPOCHREALTIME)" >&2; exit 1; }
runs=${1:-7}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags modulo_testkinds -o "$work/modulo" ./cmd/modulo

# The pipeline of BenchmarkPlan10000 (pipelines/bench_test.go): 5,000 leaves, 5,000 joins
# each reading one leaf through a dynamic index.
cat > "$work/big.hcl" <<'HCL'
locals {
  keys = toset([for p in setproduct(range(50), range(100)) : format("k%03d-%02d", p[0], p[1])])
}
text "leaf" {
  for_each = local.keys
  value    = each.key
}
concat "join" {
  for_each = local.keys
  parts    = [text.leaf[each.key].out]
  sep      = ","
}
HCL
export MODULO_CACHE="$work/cache"
"$work/modulo" run -j 2 -progress plain "$work/big.hcl" >/dev/null 2>&1

# plan_once EDIT: one `modulo plan`, after appending a comment to the pipeline when EDIT is
# 1; prints "seconds peak-KB faults". Timed and measured by scripts/spawntime, around the
# process alone: timed from bash, a run also paid for bash's fork of itself and GNU time's
# start (several ms on a VM where a page fault costs ~12 us). modulo plan exits 0 for
# "nothing to do", which it must be here (everything is cached); spawntime fails otherwise.
go build -o "$work/spawntime" ./scripts/spawntime
plan_once() {
  if [ "$1" = 1 ]; then echo "# edit $EPOCHREALTIME" >>"$work/big.hcl"; fi
  if ! "$work/spawntime" -rusage -- "$work/modulo" plan "$work/big.hcl"; then
    echo "bench-plan: modulo plan failed or found work to do (want exit 0: everything cached)" >&2
    exit 1
  fi
}

summary() { # label file
  sort -n "$2" | awk -v label="$1" '
    { t[NR] = $1; m[NR] = $2; f[NR] = $3 }
    END {
      printf "%-28s best %6.0f ms   median %6.0f ms", label, t[1] * 1000, t[int((NR + 1) / 2)] * 1000
      printf "   peak RSS %4.0f MB   minor faults %6d\n", m[int((NR + 1) / 2)] / 1024, f[int((NR + 1) / 2)]
    }'
}

plan_once 1 >/dev/null # the first plan after the run records the no-op answer
for _ in $(seq "$runs"); do plan_once 1 >>"$work/edited"; done
plan_once 0 >/dev/null
for _ in $(seq "$runs"); do plan_once 0 >>"$work/noop"; done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
printf 'modulo plan of 10,000 cached nodes, whole process, %d runs each, %d cores, %s\n' "$runs" "$(nproc)" "${cpu:-unknown CPU}"
summary "after an edit (full plan)" "$work/edited"
summary "unchanged (no-op record)" "$work/noop"
best=$(sort -n "$work/edited" | head -1 | awk '{ print $1 }')
printf 'full plan: best %.0f ms (target <= 200 ms: %s)\n' "$(awk -v b="$best" 'BEGIN { print b * 1000 }')" \
  "$(awk -v b="$best" 'BEGIN { print (b <= 0.200) ? "met" : "MISSED" }')"
