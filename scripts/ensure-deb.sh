#!/usr/bin/env bash
# ensure-deb.sh PACKAGE FILE [WITHOUT]: make sure Debian's PACKAGE is installed (FILE is one
# of its files, checked first so that an installed package costs nothing). As root it runs
# apt-get; otherwise it says which command to run, and WITHOUT, what happens without the
# package. It exits non-zero only when the package is missing and could not be installed.
set -euo pipefail
pkg=$1 file=$2 without=${3:-modulo works without it, more slowly}
[ -e "$file" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing $pkg (apt-get)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null && exit 0
  echo "could not install $pkg with apt-get" >&2
  exit 1
fi
echo "$pkg is not installed; run: sudo apt-get install $pkg ($without)" >&2
exit 1
