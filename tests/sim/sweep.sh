#!/bin/bash
# sweep.sh SIM FIRST COUNT [BROKEN PROPERTY]: the simulator's sweep
# (docs/simulation.md "The sweep"): COUNT random scenarios from seed
# FIRST, every property holding in each. With BROKEN (a rule switched off
# in the honest nodes, cardinal-sim --broken), the sweep must instead
# fail within those COUNT seeds, and PROPERTY must be among the properties
# it names: the checker can fail. That sweep goes in chunks of 50 seeds
# and stops at the first chunk that fails: which seed first shows a broken
# rule moves whenever the nodes' traffic changes, how many it takes
# hardly does.
set -u
sim=$1 first=$2 count=$3 broken=${4:-} property=${5:-}
if [ -n "$broken" ]; then
  chunk=50 end=$((first + count))
  for ((from = first; from < end; from += chunk)); do
    n=$((end - from < chunk ? end - from : chunk))
    summary=$("$sim" --random --seed "$from" --seeds "$n" --broken "$broken" 2>/dev/null)
    rc=$?
    [ $rc -ne 0 ] && break
  done
  echo "$summary"
  if [ $rc -ne 1 ]; then
    echo "with $broken off the sweep of seeds $first..$((end - 1)) should fail (exit 1), not $rc"
    exit 1
  fi
  case $summary in
    *"\"$property\""*) echo "caught: $property"; exit 0 ;;
    *) echo "with $broken off, $property was not among the failures"; exit 1 ;;
  esac
fi
summary=$("$sim" --random --seed "$first" --seeds "$count" 2>/tmp/sweep-$$.err)
rc=$?
echo "$summary"
[ $rc -ne 0 ] && cat /tmp/sweep-$$.err
rm -f /tmp/sweep-$$.err
exit $((rc != 0))
