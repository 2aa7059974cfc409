#!/usr/bin/env bash
# Validates SARIF files against the SARIF 2.1.0 JSON schema (OASIS, rtm.5, as Microsoft ships it
# in the npm package @microsoft/jest-sarif), with Python's jsonschema.
#
# Usage: scripts/validate-sarif.sh FILE...
# On first use: installs jsonschema into .venv at the repository root (PyPI) and fetches the
# schema with `npm pack` (npm registry) into target/sarif-schema, checked against its SHA-256.
set -euo pipefail

SCHEMA_PACKAGE=@microsoft/jest-sarif@1.0.0-beta.0
SCHEMA_PATH=package/lib/schemas/sarif-2.1.0-rtm.5.json
SCHEMA_SHA256=2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
cache="${CARGO_TARGET_DIR:-$root/target}/sarif-schema"
schema="$cache/sarif-2.1.0-rtm.5.json"

fail() { printf 'validate-sarif: %s\n' "$*" >&2; exit 1; }
[ $# -gt 0 ] || fail "usage: scripts/validate-sarif.sh FILE..."

# Tests run this script in parallel: one installs while the others wait on the lock.
mkdir -p "$cache"
exec 9>"$cache.lock"
flock 9
if ! "$venv/bin/python" -c 'import jsonschema' 2>/dev/null; then
    command -v python3 >/dev/null || fail "python3 is not installed (Debian: apt-get install python3 python3-venv)"
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >/dev/null || fail "cannot create $venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'jsonschema>=4.18' \
        || fail "cannot install jsonschema from PyPI"
fi
if [ ! -f "$schema" ] || ! echo "$SCHEMA_SHA256  $schema" | sha256sum --check --status; then
    command -v npm >/dev/null || fail "npm is not installed (Debian: apt-get install npm)"
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    (cd "$scratch" && npm pack --silent "$SCHEMA_PACKAGE" >/dev/null) || fail "cannot fetch $SCHEMA_PACKAGE from npm"
    tar -xzf "$scratch"/*.tgz -C "$scratch" "$SCHEMA_PATH"
    echo "$SCHEMA_SHA256  $scratch/$SCHEMA_PATH" | sha256sum --check --status \
        || fail "the schema in $SCHEMA_PACKAGE is not the one pinned"
    cp "$scratch/$SCHEMA_PATH" "$schema"
fi
flock -u 9

"$venv/bin/python" - "$schema" "$@" <<'PY'
import json, sys
from jsonschema.validators import validator_for

schema = json.load(open(sys.argv[1]))
validator = validator_for(schema)(schema)
failed = False
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
    for error in errors:
        failed = True
        where = "/".join(str(part) for part in error.path) or "(root)"
        print(f"{path}: {where}: {error.message}", file=sys.stderr)
    if not errors:
        print(f"{path}: valid SARIF 2.1.0")
sys.exit(1 if failed else 0)
PY
