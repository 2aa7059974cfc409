#!/usr/bin/env bash
# API requests and whole-process time of `kubectl-acr deploy` for each deployment method against
# the fake API server, and whole-process `render`; then a re-run of `deploy` beside `kubectl
# apply --server-side` of the same manifests on a real control plane: builds the release
# binary, prepares the control plane (scripts/control-plane-assets.sh), then runs the `deploy`
# benchmark of the tests crate (tests/benches/deploy.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '==> %s\n' "$*" >&2; }
source scripts/control-plane-assets.sh
prepare_control_plane
cargo build --quiet --release -p kubectl-acr --locked
cargo bench --quiet -p acr-tests --bench deploy --locked
