#!/usr/bin/env bash
# The README's first command: builds kubectl-acr and runs the main job on a built-in example, with
# no cluster and no Azure account: `deploy --dry-run=client` prints the policy verdicts (stderr) and
# the manifests a deploy of a connected registry on service IP 192.100.100.1 would apply (stdout):
# cert-manager installed, trust distribution on.
set -euo pipefail
cd "$(dirname "$0")/.."

# The built-in policies are built for wasm32 and embedded, so a fresh machine needs the target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "adding the wasm32-unknown-unknown Rust target (the built-in policies are built for it)" >&2
    rustup target add wasm32-unknown-unknown
fi
cargo build --quiet --release -p kubectl-acr --locked
bin=target/release/kubectl-acr

args=(--config service.clusterIP=192.100.100.1
      --config-protected-file examples/protected-settings.json)
echo "\$ kubectl acr deploy --dry-run=client ${args[*]}" >&2
"$bin" deploy --dry-run=client "${args[@]}"
