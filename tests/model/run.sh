#!/usr/bin/env bash
# Run the SPIN model of the wasm-rseq ownership / sequence protocol.
#
#   run.sh                 same as `run.sh all`
#   run.sh all             every light case of cases.txt
#   run.sh heavy           the heavy cases (minutes, GBs of RAM)
#   run.sh hazard          the cases about host/kernel details (README.md)
#   run.sh list            list the cases
#   run.sh NAME...         the named cases (e.g. req-kill broken-commit)
#   run.sh ok|np|assert|endstate -DFLAG...
#                          an ad-hoc run with the given expectation
#
# Exit status 0 iff every case came out as expected: the correct model
# verifies (errors: 0, search complete) and every broken variant is
# rejected (assertion violation / invalid end state found).
#
# Environment: SPIN (default spin), CC (default gcc), PAN_MEMLIM (MB,
# default 4096: heavy lf-smp3-die needs ~2.4 GB), PAN_OPT (gcc -O level for pan; default -O2, -O0 for the
# broken variants), KEEP=1 keeps the work directory (pan output, trails:
# replay one with `spin -t -p -D<same flags> <model>.pml` in <work>/<case>).
# A flag ending in .pml (e.g. sched.pml) selects the model file; default rseq.pml.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SPIN=${SPIN:-spin}
CC=${CC:-gcc}
MEMLIM=${PAN_MEMLIM:-4096}


work=$(mktemp -d "${TMPDIR:-/tmp}/rseq-model.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
  echo "work directory: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# cases.txt rows: name tier expect flags...
cases() { grep -v '^[[:space:]]*\(#\|$\)' "$here/cases.txt"; }

if [ "${1:-}" = list ]; then cases; exit 0; fi

if ! command -v "$SPIN" >/dev/null 2>&1; then
  echo "run.sh: '$SPIN' not found -- install SPIN: apt-get install -y spin" >&2
  exit 2
fi
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "run.sh: C compiler '$CC' not found (needed to build pan)" >&2
  exit 2
fi

failures=0

# run_case NAME EXPECT FLAGS...
run_case() {
  local name=$1 expect=$2; shift 2
  local dir="$work/$name" cflags opt panflags out model=rseq.pml
  # a flag naming a .pml file selects the model (default rseq.pml)
  local f args=()
  for f in "$@"; do
    case $f in *.pml) model=$f ;; *) args+=("$f") ;; esac
  done
  set -- "${args[@]}"
  mkdir -p "$dir" && cp "$here/$model" "$dir/"
  case $expect in
    np) cflags=(-DNP -DNFAIR=3); panflags=(-l -f) ;;
    *)  cflags=(-DSAFETY);       panflags=() ;;
  esac
  # broken variants fail within a few hundred states: skip the optimiser
  case $expect in assert|endstate) opt=-O0 ;; *) opt=-O2 ;; esac
  [ -n "${PAN_OPT:-}" ] && opt=$PAN_OPT

  if ! (cd "$dir" && "$SPIN" -a "$@" "$model" >spin.out 2>&1); then
    echo "FAIL  $name: spin -a $* failed:"; sed 's/^/      /' "$dir/spin.out"
    failures=$((failures + 1)); return
  fi
  if ! (cd "$dir" && "$CC" "$opt" -w "${cflags[@]}" -DCOLLAPSE -DVECTORSZ=1024 \
          -DMEMLIM="$MEMLIM" -o pan pan.c >cc.out 2>&1); then
    echo "FAIL  $name: $CC pan.c failed:"; sed 's/^/      /' "$dir/cc.out"
    failures=$((failures + 1)); return
  fi
  (cd "$dir" && ./pan -m20000 "${panflags[@]}" >pan.out 2>&1)
  out="$dir/pan.out"

  local errors states depth secs first
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | tail -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$out" | tail -1)
  secs=$(sed -n 's/.*elapsed time \([0-9.e+]*\) seconds.*/\1/p' "$out" | tail -1)
  first=$(grep -m1 -E '^pan:1:|acceptance cycle|non-progress cycle' "$out" | cut -c1-160)
  local figures="states=$states depth=$depth time=${secs}s  [$model $*]"

  if [ -z "$errors" ]; then
    echo "FAIL  $name: could not parse pan output:"; tail -20 "$out" | sed 's/^/      /'
    failures=$((failures + 1)); return
  fi
  if grep -qE 'max search depth too small|out of memory|aborting' "$out"; then
    echo "FAIL  $name: search truncated:"; grep -E 'max search depth|memory|aborting' "$out" | sed 's/^/      /'
    failures=$((failures + 1)); return
  fi
  case $expect in
    ok|np)
      if [ "$errors" = 0 ] && ! grep -q 'Search not completed' "$out"; then
        echo "PASS  $name: property holds (errors: 0)  $figures"
      else
        echo "FAIL  $name: expected errors: 0, got errors: $errors  $figures"
        echo "      $first"
        failures=$((failures + 1))
      fi ;;
    assert|endstate)
      local want='assertion violated'
      [ "$expect" = endstate ] && want='invalid end state'
      if [ "$errors" -gt 0 ] && grep -q "^pan:1: $want" "$out"; then
        echo "PASS  $name: violation found, variant rejected as expected  $figures"
        echo "      $first"
      else
        echo "FAIL  $name: expected '$want', got errors: $errors  $figures"
        [ -n "$first" ] && echo "      $first"
        failures=$((failures + 1))
      fi ;;
    *)
      echo "FAIL  $name: unknown expectation '$expect'"; failures=$((failures + 1)) ;;
  esac
}

run_tier() {
  local tier=$1 name t expect flags
  while read -r name t expect flags; do
    # shellcheck disable=SC2086
    [ "$t" = "$tier" ] && run_case "$name" "$expect" $flags
  done < <(cases)
}

[ $# -eq 0 ] && set -- all
case $1 in
  list)
    cases; exit 0 ;;
  all|light)
    run_tier light ;;
  heavy|hazard)
    run_tier "$1" ;;
  ok|np|assert|endstate)
    expect=$1; shift
    run_case adhoc "$expect" "$@" ;;
  *)
    for want in "$@"; do
      row=$(cases | awk -v n="$want" '$1 == n')
      if [ -z "$row" ]; then
        echo "FAIL  $want: no such case (run.sh list)"; failures=$((failures + 1)); continue
      fi
      read -r name t expect flags <<<"$row"
      # shellcheck disable=SC2086
      run_case "$name" "$expect" $flags
    done ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "RESULT: $failures case(s) did not come out as expected"
  exit 1
fi
echo "RESULT: all cases came out as expected"
exit 0
