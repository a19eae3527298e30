#!/usr/bin/env bash
# ensure-deb.sh PACKAGE FILE [WITHOUT]: make sure Debian's PACKAGE is installed (FILE is one
# of its files, checked first so that an installed package costs nothing). As root it runs
# apt-get; otherwise it says which command to run, and WITHOUT, what happens without the
# package. It exits non-zero only when the package is missing and could not be installed.
#
# apt's own output goes to a log file (LOG below, named in every failure message), and a
# failure is told in a few lines: what failed, apt's error lines indented, and what to do.
# apt runs one at a time, so when another apt-get, dpkg or unattended-upgrades holds its
# lock (often in the minutes after boot), the script waits for it up to LOCK_WAIT seconds
# (ENSURE_DEB_LOCK_WAIT, default 120) before giving up.
set -uo pipefail
pkg=$1 file=$2 without=${3:-modulo works without it, more slowly}
[ -e "$file" ] && exit 0

say() { printf '%s\n' "$*" >&2; }
manual="sudo apt-get install $pkg"

if ! command -v apt-get >/dev/null; then
  say "$pkg is not installed, and this system has no apt-get: install it with its package manager ($without)."
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  say "$pkg is not installed; run: $manual ($without)."
  exit 1
fi

log=${TMPDIR:-/tmp}/modulo-apt-$pkg.log
lock_wait=${ENSURE_DEB_LOCK_WAIT:-120}
: >"$log"

# is_lock_error OUTPUT: whether apt failed only because another process holds its lock.
is_lock_error() {
  grep -q -e 'Could not get lock' -e 'Unable to acquire the dpkg frontend lock' -e 'Unable to lock directory' <<<"$1"
}

# lock_holder OUTPUT: "process 1234 (apt-get)" as apt names it, or "another process".
lock_holder() {
  local h
  h=$(grep -o -m1 'held by process [0-9]* ([^)]*)' <<<"$1" | sed 's/^held by //')
  printf '%s' "${h:-another process}"
}

# run_apt ARGS...: apt-get ARGS, its output appended to the log, waiting while apt's lock
# is held by someone else. It leaves the output of the last attempt in $out.
run_apt() {
  local start=$SECONDS waited=
  while :; do
    printf '+ apt-get %s\n' "$*" >>"$log"
    out=$(DEBIAN_FRONTEND=noninteractive apt-get "$@" 2>&1)
    local rc=$?
    [ -z "$out" ] || printf '%s\n' "$out" >>"$log"
    if [ $rc = 0 ]; then
      return 0
    fi
    if ! is_lock_error "$out" || (( SECONDS - start >= lock_wait )); then
      return $rc
    fi
    if [ -z "$waited" ]; then
      say "waiting for $(lock_holder "$out") to finish with apt (up to ${lock_wait}s) before installing $pkg"
      waited=1
    fi
    sleep 2
  done
}

# fail STEP: say what failed, why and what to do, and exit 1.
fail() {
  if is_lock_error "$out"; then
    local holder
    holder=$(lock_holder "$out")
    local pid=
    case $holder in "process "*) pid=${holder#process } pid=${pid%% *} ;; esac
    say "could not install $pkg: $holder still holds apt's lock after ${lock_wait}s (another apt-get, dpkg or unattended-upgrades)."
    say "  Wait for it to finish${pid:+ (ps -p $pid shows it)}, then run make again, or run: $manual"
  else
    local said
    said=$(grep -e '^E:' -e '^W:' -e '^Err:' <<<"$out" | tail -n 5)
    [ -n "$said" ] || said=$(tail -n 5 <<<"$out")
    say "could not install $pkg: apt-get $1 failed; apt said:"
    sed 's/^/    /' <<<"$said" >&2
    say "  Run it yourself to see more: $manual"
  fi
  say "  apt's full output is in $log. Meanwhile, $without."
  exit 1
}

say "installing $pkg (apt-get, output in $log)"
run_apt update -qq || fail update
run_apt install -y -qq "$pkg" || fail install
exit 0
