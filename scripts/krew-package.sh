#!/usr/bin/env bash
# Packages kubectl-acr for krew: one archive per platform binary given, holding the plugin, its
# kubectl completion script and the licence, plus the krew manifest `acr.yaml` naming each
# archive's download address and sha256.
#
#   scripts/krew-package.sh --homepage URL --base-url URL --out DIR OS/ARCH=BINARY [OS/ARCH=BINARY ...]
#
# for example, after `cargo build --release`:
#   scripts/krew-package.sh --homepage https://github.com/contoso/kubectl-acr \
#       --base-url https://github.com/contoso/kubectl-acr/releases/download/v0.1.0 \
#       --out dist linux/amd64=target/release/kubectl-acr
# then `kubectl krew install --manifest=dist/acr.yaml --archive=dist/kubectl-acr_v0.1.0_linux_amd64.tar.gz`
# installs it before the archives are uploaded. The manifest's description comes from krew/acr.yaml.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

die() { printf 'krew-package: %s\n' "$*" >&2; exit 2; }

homepage="" base_url="" out=""
platforms=()
while [ $# -gt 0 ]; do
    case "$1" in
        --homepage) homepage="${2:?--homepage needs a URL}"; shift 2 ;;
        --base-url) base_url="${2:?--base-url needs a URL}"; shift 2 ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        */*=*) platforms+=("$1"); shift ;;
        *) die "unexpected argument \`$1\` (see --help)" ;;
    esac
done
[ -n "$homepage" ] || die "--homepage is required"
[ -n "$base_url" ] || die "--base-url is required"
[ -n "$out" ] || die "--out is required"
[ ${#platforms[@]} -gt 0 ] || die "name at least one OS/ARCH=BINARY"

version="v$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
mkdir -p "$out"
manifest_platforms=""
for platform in "${platforms[@]}"; do
    os="${platform%%/*}"
    rest="${platform#*/}"
    arch="${rest%%=*}"
    binary="${rest#*=}"
    case "$os" in linux|darwin|windows) ;; *) die "unknown OS \`$os\` in $platform" ;; esac
    case "$arch" in amd64|arm64) ;; *) die "unknown architecture \`$arch\` in $platform" ;; esac
    [ -x "$binary" ] || die "$binary is not an executable (build it first)"
    bin_name="kubectl-acr"
    [ "$os" = windows ] && bin_name="kubectl-acr.exe"
    archive="kubectl-acr_${version}_${os}_${arch}.tar.gz"
    staging="$(mktemp -d)"
    cp "$binary" "$staging/$bin_name"
    cp "$root/kubectl-acr/kubectl_complete-acr" "$root/LICENSE" "$staging/"
    # Fixed owner, order and times so the same binary always gives the same archive and sha256.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -C "$staging" -czf "$out/$archive" "$bin_name" kubectl_complete-acr LICENSE
    rm -rf "$staging"
    sha256="$(sha256sum "$out/$archive" | cut -d' ' -f1)"
    manifest_platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: ${base_url%/}/$archive
    sha256: $sha256
    files:
      - from: $bin_name
        to: .
      - from: kubectl_complete-acr
        to: .
      - from: LICENSE
        to: .
    bin: $bin_name
"
done
sed -e "s|@VERSION@|$version|" -e "s|@HOMEPAGE@|$homepage|" "$root/krew/acr.yaml" >"$out/acr.yaml"
printf '%s' "$manifest_platforms" >>"$out/acr.yaml"
printf '%s\n' "$out/acr.yaml"
