#!/usr/bin/env bash
# Whole-process comparison: `kubectl-acr cert generate --key-type rsa4096` (CA + serving
# certificate) against `openssl req -newkey rsa:4096 -x509` (one self-signed certificate),
# median of N runs each (default 10), and their ratio. Release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10}"
cargo build --quiet --release -p kubectl-acr --locked
bin="$PWD/target/release/kubectl-acr"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$bin" "$work" "$runs" <<'PY'
import statistics, subprocess, sys, time, os
bin, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def timed(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start

ours, theirs = [], []
for i in range(runs):
    out = os.path.join(work, f"acr{i}")
    ours.append(timed([bin, "cert", "generate", "--key-type", "rsa4096",
                       "--ip", "192.100.100.1", "--out-dir", out]))
    theirs.append(timed(["openssl", "req", "-newkey", "rsa:4096", "-x509", "-nodes",
                         "-keyout", os.path.join(work, f"o{i}.key"),
                         "-out", os.path.join(work, f"o{i}.crt"), "-days", "365",
                         "-subj", "/CN=192.100.100.1",
                         "-addext", "subjectAltName=IP:192.100.100.1"]))
m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
print(f"kubectl-acr cert generate --key-type rsa4096 (CA + leaf, 2 keys): median {m_ours*1000:8.1f} ms")
print(f"openssl req -newkey rsa:4096 -x509 (1 key):                      median {m_theirs*1000:8.1f} ms")
print(f"ratio kubectl-acr / openssl: {m_ours/m_theirs:.2f} (n={runs} each)")
PY
