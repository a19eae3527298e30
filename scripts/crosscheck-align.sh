#!/usr/bin/env bash
# make crosscheck-align: runs the quickstart (two MNIST MLPs, weight matching, barriers before
# and after), exports the networks and the permutation, and has numpy, scipy and PyTorch
# recompute modulo's objective, permutation and barriers (scripts/align_check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-/usr/bin/python3}
if ! "$py" -c 'import torch, scipy' 2>/dev/null; then
  echo "crosscheck-align: needs PyTorch and scipy for $py: install python3-torch and python3-scipy with apt-get" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/modulo" ./cmd/modulo
export MODULO_CACHE="$tmp/cache"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
m="$tmp/modulo"
p=examples/quickstart.hcl
"$m" run -progress plain "$p" >/dev/null 2>&1
"$m" export -p "$p" 'train.net["1"]' final -o "$tmp/a.safetensors" >/dev/null
"$m" export -p "$p" 'train.net["2"]' final -o "$tmp/b.safetensors" >/dev/null
"$m" export -p "$p" match.seeds permutation -o "$tmp/perm.safetensors" >/dev/null
"$m" export -p "$p" match.seeds aligned -o "$tmp/aligned.safetensors" >/dev/null
"$m" export -p "$p" match.seeds objective -o "$tmp/objective.json" >/dev/null
for n in before after; do
  "$m" export -p "$p" "interpolate.$n" loss_barrier -o "$tmp/$n-loss.json" >/dev/null
  "$m" export -p "$p" "interpolate.$n" error_barrier -o "$tmp/$n-error.json" >/dev/null
done
"$py" - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
r = {"objective": json.load(open(d + "/objective.json"))}
for n in ("before", "after"):
    r[n] = {m: json.load(open("%s/%s-%s.json" % (d, n, m))) for m in ("loss", "error")}
json.dump(r, open(d + "/modulo.json", "w"))
PY
mnist=$(ls -d "$(go env GOMODCACHE)"/github.com/petar/\!go\!m\!n\!i\!s\!t@*/data | tail -1)
"$py" scripts/align_check.py --dir "$tmp" --mnist "$mnist" --modulo "$tmp/modulo.json"
