#!/bin/sh
# smoke.sh FUZZER CORPUS SECONDS: a short fuzz run for the test suite. New
# inputs go to a temporary directory; the checked-in corpus is only read.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
exec "$1" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/" "$work" "$2"
