# Sourced by scripts/test.sh and scripts/bench/deploy.sh from the repository root; defines
# prepare_control_plane and expects a `say` function.
#
# The real control plane of tests/tests/real_cluster.rs, found the way envtest finds it: a
# folder named by KUBEBUILDER_ASSETS with kube-apiserver, etcd, kube-controller-manager and
# kube-scheduler. The three Kubernetes binaries come from ../shared/k8s/bin (xz, checked against
# its SHA256SUMS) and are unpacked once into target/control-plane; etcd is Debian's. An
# existing KUBEBUILDER_ASSETS is used as it is. Without any, the suite says it did not run, and
# under CI=true it fails.
prepare_control_plane() {
    local shared=../shared/k8s
    if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
        say "control plane from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
        return
    fi
    if [ ! -d "$shared/bin" ]; then
        say "no $shared/bin: the real-control-plane suite cannot run"
        return
    fi
    local assets="${CARGO_TARGET_DIR:-target}/control-plane" name sum
    mkdir -p "$assets"
    for name in kube-apiserver kube-controller-manager kube-scheduler; do
        sum=$(grep " bin/$name.xz\$" "$shared/bin/SHA256SUMS" | cut -d' ' -f1)
        if [ -z "$sum" ] || [ "$(cat "$assets/$name.sha256" 2>/dev/null)" != "$sum" ]; then
            say "unpacking $shared/bin/$name.xz"
            (cd "$shared" && grep " bin/$name.xz\$" bin/SHA256SUMS | sha256sum --check --quiet -)
            xz --decompress --stdout "$shared/bin/$name.xz" > "$assets/$name.tmp"
            chmod 755 "$assets/$name.tmp"
            mv "$assets/$name.tmp" "$assets/$name"
            echo "$sum" > "$assets/$name.sha256"
        fi
    done
    ln -sf /usr/bin/etcd "$assets/etcd"
    KUBEBUILDER_ASSETS=$(cd "$assets" && pwd)
    ACR_TEST_CERT_MANAGER_CRDS=$(cd "$shared/crds" && pwd)/cert-manager.crds.yaml
    export KUBEBUILDER_ASSETS ACR_TEST_CERT_MANAGER_CRDS
}
