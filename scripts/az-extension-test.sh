#!/usr/bin/env bash
# Tests the `az acr-ext` Azure CLI extension inside a real Azure CLI: creates (or reuses) the
# virtualenv .venv-az with azure-cli and pytest from PyPI, builds the acr_ext wheel into a temporary
# folder, and runs tests/az, which install the wheel with `az extension add` into temporary
# AZURE_CONFIG_DIR / AZURE_EXTENSION_DIR folders and run every command through `az`.
#
# Needs the engine built first: `cargo build --workspace --bins` (scripts/test.sh does it).
# Arguments are passed to pytest, e.g. `scripts/az-extension-test.sh -k verify -x`.
# Environment: AZ_TEST_VENV (default .venv-az), PYTHON (default python3), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned, and verified to install and pass here. Raising AZURE_CLI_VERSION re-installs the venv's packages.
AZURE_CLI_VERSION=2.91.0
PYTEST_VERSION=8.4.2
SETUPTOOLS_VERSION=80.9.0 # builds the wheel without fetching build tools each run
REQUIREMENTS="azure-cli==$AZURE_CLI_VERSION pytest==$PYTEST_VERSION setuptools==$SETUPTOOLS_VERSION"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'az-extension-test: %s\n' "$*" >&2; exit 1; }

engine="${CARGO_TARGET_DIR:-target}/debug/az-acr-ext"
[ -x "$engine" ] || die "the az-acr-ext engine is missing at $engine: run \`cargo build --workspace --bins\` first"
engine="$(cd "$(dirname "$engine")" && pwd)/$(basename "$engine")"

venv="${AZ_TEST_VENV:-.venv-az}"
python="${PYTHON:-python3}"
stamp="$venv/.acr-ext-test-requirements"
if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtualenv $venv"
    "$python" -m venv "$venv" || die "cannot create a virtualenv with $python -m venv (on Debian: apt-get install python3-venv)"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$REQUIREMENTS" ]; then
    say "installing $REQUIREMENTS into $venv (about 740 MB, a minute or two)"
    start=$SECONDS
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $REQUIREMENTS
    printf '%s' "$REQUIREMENTS" >"$stamp"
    say "installed in $((SECONDS - start)) s"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/az-extension-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "building the acr_ext wheel"
# Built from a copy so that setuptools' build/ and *.egg-info/ never land in the source tree.
mkdir "$work/src"
cp -R az-acr-ext/python/setup.py az-acr-ext/python/README.md az-acr-ext/python/azext_acr_ext "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --wheel-dir "$work/dist" "$work/src" >/dev/null
wheel="$(ls "$work"/dist/acr_ext-*.whl)"
say "built $(basename "$wheel")"

say "pytest tests/az (az $AZURE_CLI_VERSION, engine $engine)"
export ACR_EXT_WHEEL="$wheel" ACR_EXT_ENGINE="$engine" PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest tests/az -p no:cacheprovider -ra "$@"
