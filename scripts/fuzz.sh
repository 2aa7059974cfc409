#!/usr/bin/env bash
# Longer fuzzing of the parsers that meet untrusted bytes: the connection string, the protected
# settings file, PEM/DER certificate and key loading, DNS answers, YAML nesting. They are proptest
# properties named `fuzz_*`, which the normal test suite runs briefly (256 cases each); this runs
# FUZZ_CASES cases of each (default 100000). A failure prints the smallest failing input.
set -euo pipefail
cd "$(dirname "$0")/.."

cases="${FUZZ_CASES:-100000}"
printf '==> %s cases of each fuzz_* property\n' "$cases" >&2
PROPTEST_CASES="$cases" cargo test --locked -p acr-core -p acr-io --lib fuzz_ -- --nocapture
