#!/usr/bin/env bash
# API requests and whole-process time of `kubectl-acr deploy` for each deployment method against
# the fake API server, and whole-process `render`: builds the release binary, then runs the
# `deploy` benchmark of the tests crate (tests/benches/deploy.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --release -p kubectl-acr --locked
cargo bench --quiet -p acr-tests --bench deploy --locked
