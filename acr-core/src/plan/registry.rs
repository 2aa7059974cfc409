//! The registry workload: its service account, data volume claim, Service and Deployment, shaped
//! by the settings' container profile.

use super::labels::{pod_labels, pod_selector};
use super::secrets::{TLS_CERT_KEY, TLS_KEY_KEY};
use super::{
    CONNECTION_SECRET_NAME, CONNECTION_STRING_KEY, Component, PVC_NAME, PlanError, PlannedObject,
    REGISTRY_NAME, RenderContext, SERVICE_HTTP_PORT, SERVICE_PORT, planned,
};
use crate::settings::{ENV_CERTIFICATE_VOLUME, ENV_DATA_VOLUME, ENV_LOGIN_SERVER};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, KeyToPath, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecretVolumeSource, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec,
    TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Name of the container port, used by the Service and the probes.
const HTTPS_PORT_NAME: &str = "https";
/// Name of the plain HTTP container port (`httpEnabled=true`).
const HTTP_PORT_NAME: &str = "http";
/// The ports below this need `NET_BIND_SERVICE` when the container does not run as root.
const FIRST_UNPRIVILEGED_PORT: u16 = 1024;
const DATA_VOLUME: &str = "data";
const TLS_VOLUME: &str = "tls";

pub(super) fn service_account(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    planned(
        &ServiceAccount {
            metadata: context.metadata(REGISTRY_NAME, Component::Registry),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        },
        false,
    )
}

pub(super) fn data_volume_claim(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let settings = context.settings;
    planned(
        &PersistentVolumeClaim {
            metadata: context.metadata(PVC_NAME, Component::Storage),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                storage_class_name: settings.pvc_storage_class_name.clone(),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_owned(),
                        Quantity(settings.pvc_storage_request.clone()),
                    )])),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            ..PersistentVolumeClaim::default()
        },
        false,
    )
}

pub(super) fn service(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let port = |name: &str, port: i32| ServicePort {
        name: Some(name.to_owned()),
        protocol: Some("TCP".to_owned()),
        port,
        target_port: Some(IntOrString::String(name.to_owned())),
        ..ServicePort::default()
    };
    let mut ports = vec![port(HTTPS_PORT_NAME, SERVICE_PORT)];
    if context.settings.http_enabled {
        ports.push(port(HTTP_PORT_NAME, SERVICE_HTTP_PORT));
    }
    planned(
        &Service {
            metadata: context.metadata(REGISTRY_NAME, Component::Registry),
            spec: Some(ServiceSpec {
                type_: Some(context.settings.service_type.as_str().to_owned()),
                cluster_ip: Some(context.service_ip().to_string()),
                selector: Some(pod_selector(&context.instance, REGISTRY_NAME)),
                ports: Some(ports),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        },
        false,
    )
}

pub(super) fn deployment(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let profile = &context.settings.container;
    let security_context = if profile.runs_as_root() {
        // The image's own default (the error codes page: it runs as root).
        PodSecurityContext {
            run_as_non_root: Some(false),
            run_as_user: Some(0),
            seccomp_profile: Some(runtime_default_seccomp()),
            ..PodSecurityContext::default()
        }
    } else {
        PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(profile.run_as_user),
            run_as_group: Some(profile.run_as_user),
            fs_group: Some(profile.run_as_user),
            fs_group_change_policy: Some("OnRootMismatch".to_owned()),
            seccomp_profile: Some(runtime_default_seccomp()),
            ..PodSecurityContext::default()
        }
    };
    let pod = PodSpec {
        service_account_name: Some(REGISTRY_NAME.to_owned()),
        automount_service_account_token: Some(false),
        security_context: Some(security_context),
        containers: vec![registry_container(context)],
        volumes: Some(vec![
            Volume {
                name: DATA_VOLUME.to_owned(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: PVC_NAME.to_owned(),
                    ..PersistentVolumeClaimVolumeSource::default()
                }),
                ..Volume::default()
            },
            Volume {
                name: TLS_VOLUME.to_owned(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(context.tls_secret_name.clone()),
                    items: Some(vec![
                        KeyToPath {
                            key: TLS_CERT_KEY.to_owned(),
                            path: profile.cert_file.clone(),
                            ..KeyToPath::default()
                        },
                        KeyToPath {
                            key: TLS_KEY_KEY.to_owned(),
                            path: profile.key_file.clone(),
                            ..KeyToPath::default()
                        },
                    ]),
                    default_mode: Some(0o440),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            },
        ]),
        ..PodSpec::default()
    };
    planned(
        &Deployment {
            metadata: context.metadata(REGISTRY_NAME, Component::Registry),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                // The data volume is ReadWriteOnce: the old pod must let go before the new one starts.
                strategy: Some(DeploymentStrategy {
                    type_: Some("Recreate".to_owned()),
                    ..DeploymentStrategy::default()
                }),
                selector: LabelSelector {
                    match_labels: Some(pod_selector(&context.instance, REGISTRY_NAME)),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(pod_labels(
                            &context.instance,
                            Component::Registry,
                            REGISTRY_NAME,
                        )),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(pod),
                },
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        },
        false,
    )
}

fn registry_container(context: &RenderContext) -> Container {
    let settings = context.settings;
    let profile = &settings.container;
    let tcp_probe = |period_seconds, failure_threshold| Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(HTTPS_PORT_NAME.to_owned()),
            ..TCPSocketAction::default()
        }),
        period_seconds: Some(period_seconds),
        failure_threshold: Some(failure_threshold),
        ..Probe::default()
    };
    let plain_env = |name: &str, value: &str| EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    };
    let container_port = |name: &str, port: u16| ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(port),
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    };
    let mut ports = vec![container_port(HTTPS_PORT_NAME, profile.https_port)];
    if settings.http_enabled {
        ports.push(container_port(HTTP_PORT_NAME, profile.http_port));
    }
    let mut env = vec![
        EnvVar {
            name: CONNECTION_STRING_KEY.to_owned(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: CONNECTION_SECRET_NAME.to_owned(),
                    key: CONNECTION_STRING_KEY.to_owned(),
                    ..SecretKeySelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        plain_env(ENV_DATA_VOLUME, &profile.data_path),
        plain_env(ENV_CERTIFICATE_VOLUME, &profile.certs_path),
    ];
    if let Some(login_server) = &settings.registry_login_server {
        env.push(plain_env(ENV_LOGIN_SERVER, login_server));
    }
    // Binding a port below 1024 as non-root needs this one capability (restricted allows it).
    let privileged_port = [profile.https_port]
        .into_iter()
        .chain(settings.http_enabled.then_some(profile.http_port))
        .any(|port| port < FIRST_UNPRIVILEGED_PORT);
    let mut security_context = locked_down_container();
    if privileged_port && !profile.runs_as_root() {
        security_context.capabilities = Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: Some(vec!["NET_BIND_SERVICE".to_owned()]),
        });
    }
    Container {
        name: REGISTRY_NAME.to_owned(),
        image: Some(profile.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        ports: Some(ports),
        env: Some(env),
        volume_mounts: Some(vec![
            VolumeMount {
                name: DATA_VOLUME.to_owned(),
                mount_path: profile.data_path.clone(),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: TLS_VOLUME.to_owned(),
                mount_path: profile.certs_path.clone(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
        ]),
        // The registry answers /v2/ with 401 without credentials, so the probes check that the
        // TLS port accepts connections. The first start may sync for minutes: the startup probe
        // allows ten before the liveness probe takes over.
        startup_probe: Some(tcp_probe(10, 60)),
        readiness_probe: Some(tcp_probe(10, 3)),
        liveness_probe: Some(tcp_probe(20, 6)),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity("250m".to_owned())),
                ("memory".to_owned(), Quantity("512Mi".to_owned())),
            ])),
            limits: Some(BTreeMap::from([(
                "memory".to_owned(),
                Quantity("2Gi".to_owned()),
            )])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(security_context),
        ..Container::default()
    }
}

/// No privilege escalation, no capabilities, the runtime's default seccomp profile.
pub(super) fn locked_down_container() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..SecurityContext::default()
    }
}

pub(super) fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        ..SeccompProfile::default()
    }
}
