#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS: `make fuzz`. Runs every fuzz target for SECONDS
# with a corpus kept in BUILD_DIR/corpus (seeded from tests/fuzz/corpus);
# crashing inputs are written to BUILD_DIR/artifacts and fail the run.
set -euo pipefail
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/artifacts"
status=0
for target in block tx address genesis snapshot update_state net; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  echo "== fuzz_$target for ${seconds}s"
  if ! "$build/tests/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target-" "$corpus" "$here/corpus/$target"; then
    echo "fuzz_$target found a failure; see $build/artifacts" >&2
    status=1
  fi
done
exit $status
