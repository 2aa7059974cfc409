#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine, then runs
# formatting and lint checks, builds the binaries and runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

# Debian packages for the real peers the tests run: openssl and curl read our certificates;
# docker-registry serves them and policy modules, which skopeo reads back as an independent OCI
# client; dnsmasq serves the zone data of the private-endpoint DNS tests (each test runs its own
# on 127.0.0.1 and a free port); python3 with venv runs kubernetes-validate and the Azure CLI;
# etcd-server and xz-utils serve the real Kubernetes control plane (below); strace counts the
# connections each command attempts inside `unshare -rn` (util-linux) in the offline tests.
install_debian_packages() {
    local missing=()
    [ -x /usr/bin/etcd ] || missing+=(etcd-server)
    command -v xz >/dev/null || missing+=(xz-utils)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v curl >/dev/null || missing+=(curl)
    [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
    command -v skopeo >/dev/null || missing+=(skopeo)
    command -v strace >/dev/null || missing+=(strace)
    command -v unshare >/dev/null || missing+=(util-linux)
    command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
    command -v python3 >/dev/null || missing+=(python3)
    python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
    # npm fetches the SARIF 2.1.0 schema (scripts/validate-sarif.sh).
    command -v npm >/dev/null || missing+=(npm)
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    say "installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_rust_targets() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

# The real control plane of tests/tests/real_cluster.rs (KUBEBUILDER_ASSETS).
source scripts/control-plane-assets.sh

install_debian_packages
install_rust_targets
prepare_control_plane

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "cargo build (binaries used by the integration tests)"
cargo build --workspace --bins --locked

say "tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi

say "doc tests (the policy gate's approval cannot be forged: compile_fail)"
cargo test --doc --locked -p acr-core

say "the az extension inside a real Azure CLI"
scripts/az-extension-test.sh
