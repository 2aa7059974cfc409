#!/usr/bin/env bash
# The README's first command: builds kubectl-acr and runs it on a built-in example, with no
# cluster and no Azure account: a CA and serving certificate for a registry service IP, inspected
# and verified.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --release -p kubectl-acr --locked
bin=target/release/kubectl-acr
out=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-acr-demo.XXXXXX")
service_ip=192.100.100.1

echo "\$ kubectl acr cert generate --ip $service_ip --out-dir $out"
"$bin" cert generate --ip "$service_ip" --out-dir "$out"
echo
echo "\$ kubectl acr cert inspect $out/tls.crt"
"$bin" cert inspect "$out/tls.crt"
echo
echo "\$ kubectl acr cert verify --cert $out/tls.crt --key $out/tls.key --ca $out/ca.crt --ip $service_ip"
"$bin" cert verify --cert "$out/tls.crt" --key "$out/tls.key" --ca "$out/ca.crt" --ip "$service_ip"
echo
echo "The files are in $out (keys are 0600)."
