#!/usr/bin/env bash
# Whole-process timings of the release kubectl-acr, warm policy cache: `policy check` with the
# built-in set, `render`, and `version` as the process floor. Median and p95 of N runs (default 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-30}"
cargo build --quiet --release -p kubectl-acr --locked
python3 - "$PWD/target/release/kubectl-acr" "$runs" <<'PY'
import statistics, subprocess, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
settings = ["--config", "service.clusterIP=10.0.0.1",
            "--config-protected-file", "examples/protected-settings.json"]

def timed(argv):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]

subprocess.run([binary, "policy", "check", *settings], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for label, argv in [("policy check (built-in set, warm cache)", ["policy", "check", *settings]),
                    ("render (policy check + manifests)", ["render", *settings]),
                    ("version (process floor)", ["version"])]:
    median, p95 = timed([binary, *argv])
    print(f"{label:<42} median {median:6.1f} ms   p95 {p95:6.1f} ms   (n={runs})")
PY
