#!/bin/bash
# golden.sh SIM SCENARIO SEED GOLDEN: the report of one run (SCENARIO a
# file, or "random" for the sweep's scenario of that seed) must equal,
# byte for byte, the one kept in GOLDEN (docs/simulation.md "Same seed,
# same report"): the plain and the sanitizer builds, and every machine,
# must make the same run. A change to the node that changes what goes
# over the wire changes the report; then the golden file is made again:
#   ./build/cardinal-sim --scenario SCENARIO --seed SEED > GOLDEN  (or --random)
set -u
sim=$1 scenario=$2 seed=$3 golden=$4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ "$scenario" = random ]; then from=(--random); else from=(--scenario "$scenario"); fi
"$sim" "${from[@]}" --seed "$seed" > "$out" || { echo "the run failed"; exit 1; }
if ! cmp -s "$out" "$golden"; then
  echo "the report differs from $golden:"
  diff <(tr ',' '\n' < "$golden") <(tr ',' '\n' < "$out") | head -20
  exit 1
fi
echo "the same report as $golden"
