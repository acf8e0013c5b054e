#!/usr/bin/env bash
# oracle-golden.sh [--check] [--containerd VERSION] [SET] [CASE...]
#
# Regenerates the golden outputs under testdata/oracle/SET (default: cases) by
# running an oracle that links containerd's own code: for 1.6.20 (the default)
# ../shared/tools/containerd-oracle; for 2.x a build of
# ../shared/tools/containerd-oracle-2x (`./gobuild.sh vVERSION`), found as
# $CONTAINERD_ORACLE2_DIR/build/vVERSION/containerd-oracle2 (default dir
# /tmp/oracle2x, a copy of that tool). A case directory holds:
#   certs.d/   the hosts root (or a file `hostsdir` with "-" or a ":"-joined list)
#   args       "REF [pull|push|push-blob|blob]"
#   flags      optional oracle flags (--auth=bearer, --default-scheme=http, ...)
# and gets oracle-VERSION.json written next to them. Paths are passed relative
# to testdata/oracle so the outputs do not depend on the checkout location.
# Needs: apt-get install -y golang-go golang-github-containerd-containerd-dev
# Not used by CI: the outputs are committed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check=0
version=1.6.20
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; shift ;;
    --containerd) version="$2"; shift 2 ;;
    *) break ;;
  esac
done
if [ "$version" = 1.6.20 ]; then
  oracle="${CONTAINERD_ORACLE:-$here/../shared/tools/containerd-oracle/run.sh}"
else
  oracle="${CONTAINERD_ORACLE2_DIR:-/tmp/oracle2x}/build/v$version/containerd-oracle2"
fi
golden="oracle-$version.json"
set_name="${1:-cases}"; shift || true
cd "$here/testdata/oracle"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then for d in "$set_name"/*/; do cases+=("$(basename "$d")"); done; fi
fail=0
for c in "${cases[@]}"; do
  dir="$set_name/$c"
  if [ -f "$dir/hostsdir" ]; then hd="$(cat "$dir/hostsdir")"; else hd="$dir/certs.d"; fi
  read -r -a args < "$dir/args"
  flags=()
  if [ -f "$dir/flags" ]; then read -r -a flags < "$dir/flags"; fi
  out="$("$oracle" "${flags[@]}" "$hd" "${args[@]}")"
  if [ $check = 1 ]; then
    if [ -f "$dir/NONDETERMINISTIC" ]; then echo "skip $c (nondeterministic)"; continue; fi
    if diff -q "$dir/$golden" <(printf '%s\n' "$out") >/dev/null; then echo "ok   $c"; else echo "DIFF $c"; fail=1; fi
  else
    printf '%s\n' "$out" > "$dir/$golden"
    echo "wrote $c"
  fi
done
exit $fail
