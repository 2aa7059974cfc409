#!/usr/bin/env bash
# Validates rendered Kubernetes manifests against the Kubernetes OpenAPI schemas with
# kubernetes-validate (PyPI) in strict mode, where an unknown field is an error, for the oldest and
# the newest Kubernetes version the plan targets (k8s-openapi's v1_33 feature, and the newest
# schema kubernetes-validate ships). Schemas ship inside the package: no network after the install.
#
# cert-manager's Issuer and Certificate have no schema there; they are counted and left to the
# Rust tests (tests/tests/plan_snapshots.rs), which check their required fields. Any other object
# without a schema (a misspelt kind or apiVersion) fails.
#
# Usage: scripts/validate-manifests.sh DIR    (every *.yaml in DIR; multi-document files welcome)
# Installs kubernetes-validate into .venv at the repository root on first use.
set -euo pipefail

KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VERSIONS=(1.33.0 1.37.0)

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: scripts/validate-manifests.sh DIR}"
venv="$root/.venv"
validator="$venv/bin/kubernetes-validate"

fail() { printf 'validate-manifests: %s\n' "$*" >&2; exit 1; }

install_validator() {
    command -v python3 >/dev/null || fail "python3 is not installed (Debian: apt-get install python3 python3-venv)"
    if [ ! -x "$venv/bin/pip" ]; then
        python3 -m venv "$venv" >/dev/null || fail "cannot create $venv (Debian: apt-get install python3-venv)"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" || fail "cannot install kubernetes-validate from PyPI"
}

# Tests run this script in parallel: one installs while the others wait on the lock.
if [ "$("$validator" --version 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
    exec 9>"$root/.venv.lock"
    flock 9
    if [ "$("$validator" --version 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
        install_validator
    fi
    flock -u 9
fi

shopt -s nullglob
files=("$dir"/*.yaml)
[ ${#files[@]} -gt 0 ] || fail "no *.yaml files in $dir"

version_args=()
for version in "${KUBERNETES_VERSIONS[@]}"; do
    version_args+=(-k "$version")
done

status=0
output="$("$validator" --strict "${version_args[@]}" "${files[@]}" 2>&1)" || status=$?

cert_manager_warning="^WARN .* Couldn't find schema for kind (Issuer|Certificate) with api version cert-manager\.io/v1 for kubernetes version [0-9.]+$"
problems="$(printf '%s\n' "$output" | grep -v -E "^INFO .* passed |$cert_manager_warning|^$" || true)"
passed="$(printf '%s\n' "$output" | grep -c -E "^INFO .* passed " || true)"
cert_manager="$(printf '%s\n' "$output" | grep -c -E "$cert_manager_warning" || true)"

if [ "$status" -ne 0 ] || [ -n "$problems" ]; then
    printf '%s\n' "$problems" >&2
    fail "schema validation failed (exit $status)"
fi
[ "$passed" -gt 0 ] || fail "no object was validated"
echo "validate-manifests: ${#files[@]} files, $passed object checks passed against Kubernetes ${KUBERNETES_VERSIONS[*]} (strict); $cert_manager cert-manager object checks left to the Rust tests"
