#!/bin/bash
# sweep.sh SIM FIRST COUNT [BROKEN PROPERTY]: the simulator's sweep
# (docs/simulation.md "The sweep"): COUNT random scenarios from seed
# FIRST, every property holding in each. With BROKEN (a rule switched off
# in the honest nodes, cardinal-sim --broken), the sweep must instead
# fail, and PROPERTY must be among the properties it names: the checker
# can fail.
set -u
sim=$1 first=$2 count=$3 broken=${4:-} property=${5:-}
args=(--random --seed "$first" --seeds "$count")
[ -n "$broken" ] && args+=(--broken "$broken")
summary=$("$sim" "${args[@]}" 2>/tmp/sweep-$$.err)
rc=$?
echo "$summary"
if [ -z "$broken" ]; then
  if [ $rc -ne 0 ]; then cat /tmp/sweep-$$.err; rm -f /tmp/sweep-$$.err; exit 1; fi
  rm -f /tmp/sweep-$$.err
  exit 0
fi
rm -f /tmp/sweep-$$.err
if [ $rc -ne 1 ]; then echo "with $broken off the sweep should fail (exit 1), not $rc"; exit 1; fi
case $summary in
  *"\"$property\""*) echo "caught: $property"; exit 0 ;;
  *) echo "with $broken off, $property was not among the failures"; exit 1 ;;
esac
