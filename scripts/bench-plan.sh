#!/usr/bin/env bash
# The plan a user waits for: `modulo plan` of a 10,000-node pipeline whose results are all
# cached, timed as a whole process (start, parse, for_each, state, keys, lookups, output),
# right after an edit of the pipeline file (so the no-op record cannot answer and every node
# is planned) and unchanged (answered from the no-op record). BenchmarkPlan10000 times the
# same plan inside a warm test process; this is the figure beside it. Prints the CPU model
# (figures differ by machine), the best and median of the runs, and, where GNU time is
# installed, peak RSS and page faults: a fresh process pays for every page it touches.
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

gnutime=""
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' true >/dev/null 2>&1; then gnutime=/usr/bin/time; fi

# plan_once EDIT: one `modulo plan`, after appending a comment to the pipeline when EDIT is
# 1; prints "seconds [peak-KB faults]". Exit status 0 is "nothing to do", 2 "work to do".
plan_once() {
  local s e rc extra=""
  if [ "$1" = 1 ]; then echo "# edit $EPOCHREALTIME" >>"$work/big.hcl"; fi
  s=${EPOCHREALTIME/,/.}
  set +e
  if [ -n "$gnutime" ]; then
    "$gnutime" -o "$work/time" -f '%M %R' "$work/modulo" plan "$work/big.hcl" >"$work/out" 2>&1
  else
    "$work/modulo" plan "$work/big.hcl" >"$work/out" 2>&1
  fi
  rc=$?
  set -e
  e=${EPOCHREALTIME/,/.}
  if [ "$rc" != 0 ]; then
    echo "bench-plan: modulo plan exited $rc (want 0: everything cached)" >&2
    tail -5 "$work/out" >&2
    exit 1
  fi
  [ -n "$gnutime" ] && extra=" $(tail -1 "$work/time")"
  awk -v s="$s" -v e="$e" -v x="$extra" 'BEGIN { printf "%.4f%s\n", e - s, x }'
}

summary() { # label file
  sort -n "$2" | awk -v label="$1" -v gt="$gnutime" '
    { t[NR] = $1; m[NR] = $2; f[NR] = $3 }
    END {
      printf "%-28s best %6.0f ms   median %6.0f ms", label, t[1] * 1000, t[int((NR + 1) / 2)] * 1000
      if (gt != "") printf "   peak RSS %4.0f MB   page faults %6d", m[int((NR + 1) / 2)] / 1024, f[int((NR + 1) / 2)]
      printf "\n"
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
