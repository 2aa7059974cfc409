//! Trust distribution: a DaemonSet that writes the registry's CA and a containerd `hosts.toml`
//! into each node's containerd host configuration directory, so the kubelet pulls from the
//! service IP over verified TLS.
//!
//! containerd looks a registry up by the host exactly as the image reference spells it, so both
//! `<service IP>` (images named `10.0.0.1/app:1`) and `<service IP>:443` (`10.0.0.1:443/app:1`)
//! get a directory; with `httpEnabled=true`, `<service IP>:80` gets one that pulls over plain
//! HTTP. By default every Linux node gets them (the Arc extension's glossary);
//! `trustDistribution.useNodeSelector=true` limits them to labelled nodes. The script re-copies every five minutes, so a renewed CA reaches the nodes;
//! files are replaced atomically and only when they changed.

use super::labels::{TRUST_NODE_LABEL, TRUST_NODE_LABEL_VALUE, pod_labels, pod_selector};
use super::registry::{locked_down_container, runtime_default_seccomp};
use super::secrets::CA_CERT_KEY;
use super::{
    Component, PlanError, PlannedObject, REGISTRY_NAME, RenderContext, SERVICE_HTTP_PORT,
    SERVICE_PORT, TRUST_DAEMONSET_NAME, planned,
};
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec};
use k8s_openapi::api::core::v1::{
    Container, HostPathVolumeSource, KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec,
    ResourceRequirements, SecretVolumeSource, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// Where the CA from the TLS Secret appears inside the trust container.
const CA_MOUNT_PATH: &str = "/etc/acr-trust";
const CA_VOLUME: &str = "registry-ca";
const CERTS_DIR_VOLUME: &str = "containerd-certs";
/// Seconds between two copies.
const RESYNC_SECONDS: u32 = 300;

pub(super) fn daemon_set(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let certs_dir = &context.options.containerd_certs_dir;
    let mut node_selector = BTreeMap::from([("kubernetes.io/os".to_owned(), "linux".to_owned())]);
    if context.settings.trust_distribution_use_node_selector {
        node_selector.insert(
            TRUST_NODE_LABEL.to_owned(),
            TRUST_NODE_LABEL_VALUE.to_owned(),
        );
    }
    let container = Container {
        name: "containerd-config".to_owned(),
        image: Some(context.options.trust_distribution_image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]),
        args: Some(vec![trust_script(
            &context.registry_host(),
            certs_dir,
            context.settings.http_enabled,
        )]),
        volume_mounts: Some(vec![
            VolumeMount {
                name: CA_VOLUME.to_owned(),
                mount_path: CA_MOUNT_PATH.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: CERTS_DIR_VOLUME.to_owned(),
                mount_path: certs_dir.clone(),
                ..VolumeMount::default()
            },
        ]),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity("10m".to_owned())),
                ("memory".to_owned(), Quantity("16Mi".to_owned())),
            ])),
            limits: Some(BTreeMap::from([(
                "memory".to_owned(),
                Quantity("32Mi".to_owned()),
            )])),
            ..ResourceRequirements::default()
        }),
        // Root owns the node's containerd directory, so the copy runs as root, but with no
        // capabilities at all, no privilege escalation and a read-only root file system.
        security_context: Some(SecurityContext {
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            read_only_root_filesystem: Some(true),
            ..locked_down_container()
        }),
        ..Container::default()
    };
    let pod = PodSpec {
        service_account_name: Some(REGISTRY_NAME.to_owned()),
        automount_service_account_token: Some(false),
        node_selector: Some(node_selector),
        // Every node that may pull from the registry needs the CA, tainted or not.
        tolerations: Some(vec![Toleration {
            operator: Some("Exists".to_owned()),
            ..Toleration::default()
        }]),
        termination_grace_period_seconds: Some(5),
        security_context: Some(PodSecurityContext {
            seccomp_profile: Some(runtime_default_seccomp()),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![
            Volume {
                name: CA_VOLUME.to_owned(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(context.tls_secret_name.clone()),
                    items: Some(vec![KeyToPath {
                        key: CA_CERT_KEY.to_owned(),
                        path: CA_CERT_KEY.to_owned(),
                        ..KeyToPath::default()
                    }]),
                    default_mode: Some(0o444),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            },
            Volume {
                name: CERTS_DIR_VOLUME.to_owned(),
                host_path: Some(HostPathVolumeSource {
                    path: certs_dir.clone(),
                    type_: Some("DirectoryOrCreate".to_owned()),
                }),
                ..Volume::default()
            },
        ]),
        ..PodSpec::default()
    };
    planned(
        &DaemonSet {
            metadata: context.metadata(TRUST_DAEMONSET_NAME, Component::Trust),
            spec: Some(DaemonSetSpec {
                selector: LabelSelector {
                    match_labels: Some(pod_selector(&context.instance, TRUST_DAEMONSET_NAME)),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(pod_labels(
                            &context.instance,
                            Component::Trust,
                            TRUST_DAEMONSET_NAME,
                        )),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(pod),
                },
                ..DaemonSetSpec::default()
            }),
            ..DaemonSet::default()
        },
        false,
    )
}

/// The containerd host directories for the registry at `host` (an IP, IPv6 in brackets).
pub(super) fn host_directories(host: &str, certs_dir: &str) -> [String; 2] {
    [
        format!("{certs_dir}/{host}"),
        format!("{certs_dir}/{host}:{SERVICE_PORT}"),
    ]
}

/// The POSIX shell script the trust container runs. `host` and `certs_dir` hold only characters
/// that need no quoting inside double quotes (checked when the context was built).
fn trust_script(host: &str, certs_dir: &str, http_enabled: bool) -> String {
    let [plain, with_port] = host_directories(host, certs_dir);
    let http = if http_enabled {
        let dir = format!("{certs_dir}/{host}:{SERVICE_HTTP_PORT}");
        format!(
            r#"  mkdir -p "{dir}"
  cat > "{dir}/hosts.toml.new" <<EOF
# Written by kubectl-acr: the connected registry at {host}, over plain HTTP (httpEnabled=true).
server = "http://{host}:{SERVICE_HTTP_PORT}"
capabilities = ["pull", "resolve"]
EOF
  replace "{dir}/hosts.toml"
"#
        )
    } else {
        String::new()
    };
    format!(
        r#"set -eu
trap 'exit 0' TERM INT
replace() {{
  if cmp -s "$1.new" "$1"; then rm "$1.new"; else mv "$1.new" "$1"; fi
}}
echo "kubectl-acr: trusting the connected registry CA for {host} in {certs_dir}"
while true; do
  for dir in "{plain}" "{with_port}"; do
    mkdir -p "$dir"
    cp {CA_MOUNT_PATH}/{CA_CERT_KEY} "$dir/ca.crt.new"
    replace "$dir/ca.crt"
    cat > "$dir/hosts.toml.new" <<EOF
# Written by kubectl-acr: the connected registry at {host}, trusted with its CA.
server = "https://{host}:{SERVICE_PORT}"
ca = "$dir/ca.crt"
capabilities = ["pull", "resolve"]
EOF
    replace "$dir/hosts.toml"
  done
{http}  sleep {RESYNC_SECONDS} &
  wait $!
done
"#
    )
}
