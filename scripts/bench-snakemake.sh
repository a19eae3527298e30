#!/usr/bin/env bash
# Pipeline-engine overhead side by side: the same 1,000-job DAG (500 leaves, 500 joins each
# reading one leaf) in modulo and in Snakemake. Prints the cold and no-op rerun times of
# both, the ratio of the no-op reruns and whether the targets hold (modulo's no-op rerun
# <= 20 ms and >= 40x faster than Snakemake's), with the CPU model: figures differ by machine.
#
# Usage: scripts/bench-snakemake.sh [JOBS/2, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}

if ! command -v snakemake >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq snakemake >/dev/null
  else
    echo "bench-snakemake: snakemake is not installed; run 'sudo apt-get install snakemake' (Debian) and retry" >&2
    exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags modulo_testkinds -o "$work/modulo" ./cmd/modulo

# modulo: keys k000..k(n-1), passed as a variable.
mkdir -p "$work/m"
cat > "$work/m/dag.hcl" <<HCL
variable "n" {
  type = number
}
locals {
  keys = toset([for i in range(var.n) : format("k%04d", i)])
}
text "leaf" {
  for_each = local.keys
  value    = each.key
}
concat "join" {
  for_each = local.keys
  parts    = [text.leaf[each.key].out]
}
HCL

mkdir -p "$work/s"
cat > "$work/s/Snakefile" <<'SMK'
KEYS = ["k%04d" % i for i in range(int(config["n"]))]

rule all:
    input: expand("join/{k}.txt", k=KEYS)

rule leaf:
    output: "leaf/{k}.txt"
    shell: "echo {wildcards.k} > {output}"

rule join:
    input: "leaf/{k}.txt"
    output: "join/{k}.txt"
    shell: "cat {input} > {output}"
SMK

# seconds CMD...: wall time of one run, in seconds; best CMD...: the fastest of 10 (as
# hyperfine runs 10 at least: the host's slow moments only ever add time). Both time
# the process alone (scripts/spawntime): timed from bash, a run also paid for bash's fork of
# itself, 3-5 ms on a VM where a page fault costs ~12 us (a "hello, world" 7.0-8.2 ms from
# bash, 3.8 ms without the fork), a sixth of modulo's no-op rerun and nothing of
# Snakemake's. A run that fails stops the script with its output.
go build -o "$work/spawntime" ./scripts/spawntime
seconds() { "$work/spawntime" -- "$@"; }
best() { "$work/spawntime" -n 10 -- "$@"; }

export MODULO_CACHE="$work/m/cache"
mod=("$work/modulo" run -j 2 -progress plain -var "n=$n" "$work/m/dag.hcl")
smk=(snakemake -c2 --quiet -d "$work/s" -s "$work/s/Snakefile" --config "n=$n")

# modulo's first no-op rerun plans the pipeline and records that nothing changed; the
# reruns after it are answered from that record while the pipeline's files, variables,
# state and cache stay as they were (pipelines.Noop). Both are shown.
mc=$(seconds "${mod[@]}")
mp=$(seconds "${mod[@]}")
mn=$(best "${mod[@]}")
sc=$(seconds "${smk[@]}")
sp=$(seconds "${smk[@]}")
sn=$(best "${smk[@]}")

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
printf 'DAG of %d jobs, %d cores, %s\n' $((2 * n)) "$(nproc)" "${cpu:-unknown CPU}"
printf '%-10s %12s %22s %14s\n' tool "cold run (s)" "first no-op rerun (s)" "no-op rerun (s)"
printf '%-10s %12.3f %22.4f %14.4f\n' modulo "$mc" "$mp" "$mn"
printf '%-10s %12.3f %22.4f %14.4f\n' snakemake "$sc" "$sp" "$sn"
printf 'first no-op rerun (modulo plans and records): modulo is %sx faster than snakemake\n' \
  "$(awk -v a="$sp" -v b="$mp" 'BEGIN { printf "%.1f", a / b }')"
ratio=$(awk -v a="$sn" -v b="$mn" 'BEGIN { printf "%.1f", a / b }')
verdict() { if awk -v ok="$1" 'BEGIN { exit !ok }'; then echo met; else echo MISSED; fi; }
printf 'no-op rerun: modulo is %sx faster than snakemake (target >= 40x: %s)\n' "$ratio" \
  "$(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 40) }')")"
printf 'no-op rerun: modulo %.1f ms (target <= 20 ms: %s)\n' "$(awk -v m="$mn" 'BEGIN { print m * 1000 }')" \
  "$(verdict "$(awk -v m="$mn" 'BEGIN { print (m <= 0.020) }')")"
