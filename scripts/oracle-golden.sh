#!/usr/bin/env bash
# oracle-golden.sh [--check] [SET] [CASE...]
#
# Regenerates the golden outputs under testdata/oracle/SET (default: cases) by
# running the containerd 1.6.20 oracle from ../shared/tools/containerd-oracle,
# which links containerd's own code. A case directory holds:
#   certs.d/   the hosts root (or a file `hostsdir` with "-" or a ":"-joined list)
#   args       "REF [pull|push|push-blob|blob]"
#   flags      optional oracle flags (--auth=bearer, --default-scheme=http, ...)
# and gets oracle-1.6.20.json written next to them. Paths are passed relative
# to testdata/oracle so the outputs do not depend on the checkout location.
# Needs: apt-get install -y golang-go golang-github-containerd-containerd-dev
# Not used by CI: the outputs are committed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
oracle="${CONTAINERD_ORACLE:-$here/../shared/tools/containerd-oracle/run.sh}"
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
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
    if diff -q "$dir/oracle-1.6.20.json" <(printf '%s\n' "$out") >/dev/null; then echo "ok   $c"; else echo "DIFF $c"; fail=1; fi
  else
    printf '%s\n' "$out" > "$dir/oracle-1.6.20.json"
    rm -f "$dir/oracle-1.6.20.summary.json"
    echo "wrote $c"
  fi
done
exit $fail
