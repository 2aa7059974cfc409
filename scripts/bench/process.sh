#!/usr/bin/env bash
# Whole-process timings of the release kubectl-acr, as ratios to `version` (the process floor)
# measured in the same run: `policy check` with the built-in set, warm (cache folder in use) and
# cold (a new, empty cache folder every run, as on the first run after install or for a new
# user), `render`, and `version`. The commands take turns run by run, so the machine's noise
# falls on all of them alike. Prints median and p95 of N runs each (default 30), peak memory,
# and the size of each release binary and each built-in module (wasm and precompiled code).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-30}"
cargo build --quiet --release -p kubectl-acr -p az-acr-ext --locked
python3 - "$PWD" "$runs" <<'PY'
import glob, os, statistics, subprocess, sys, tempfile, time
root, runs = sys.argv[1], int(sys.argv[2])
binary = os.path.join(root, "target/release/kubectl-acr")
settings = ["--config", "service.clusterIP=10.0.0.1",
            "--config-protected-file", "examples/protected-settings.json"]
warm_cache = tempfile.mkdtemp(prefix="acr-bench-warm-")
commands = [
    ("version (process floor)", ["version"], lambda: warm_cache),
    ("policy check, built-in set, warm", ["policy", "check", *settings], lambda: warm_cache),
    ("policy check, built-in set, empty cache", ["policy", "check", *settings],
     lambda: tempfile.mkdtemp(prefix="acr-bench-cold-")),
    ("render (policy check + manifests)", ["render", *settings], lambda: warm_cache),
]

def run(argv, cache_home):
    env = dict(os.environ, XDG_CACHE_HOME=cache_home)
    start = time.perf_counter()
    subprocess.run([binary, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - start) * 1000

for _, argv, cache in commands:
    run(argv, cache())
samples = {label: [] for label, _, _ in commands}
for _ in range(runs):
    for label, argv, cache in commands:
        samples[label].append(run(argv, cache()))
floor = statistics.median(samples[commands[0][0]])
for label, _, _ in commands:
    values = sorted(samples[label])
    median, p95 = statistics.median(values), values[int(len(values) * 0.95)]
    print(f"{label:<42} median {median:6.1f} ms   p95 {p95:6.1f} ms   "
          f"{median / floor:4.1f}x floor   (n={runs})")

for label, argv, cache in commands[1:3]:
    out = subprocess.run(["/usr/bin/time", "-f", "%M", binary, *argv], capture_output=True,
                         text=True, env=dict(os.environ, XDG_CACHE_HOME=cache()))
    print(f"peak memory, {label:<29} {int(out.stderr.split()[-1]) / 1024:6.1f} MiB")

for name in ["kubectl-acr", "az-acr-ext"]:
    path = os.path.join(root, "target/release", name)
    print(f"binary {name:<35} {os.path.getsize(path) / 1e6:6.2f} MB")
generated = max(glob.glob(os.path.join(root, "target/release/build/acr-policy-*/out/builtin_policies.rs")),
                key=os.path.getmtime)
out_dir = os.path.dirname(generated)
for wasm in sorted(glob.glob(os.path.join(out_dir, "*.wasm"))):
    name = os.path.basename(wasm)[:-len(".wasm")]
    code = wasm[:-len(".wasm")] + ".cwasm"
    code_size = f"{os.path.getsize(code) / 1e3:6.1f} kB precompiled" if os.path.exists(code) else "not precompiled"
    print(f"module {name:<38} {os.path.getsize(wasm) / 1e3:6.1f} kB wasm, {code_size}")
PY
