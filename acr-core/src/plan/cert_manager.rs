//! The cert-manager objects (cert-manager.io/v1, written as JSON, no typed CRDs): a self-signed
//! Issuer makes a CA, a CA Issuer signs the serving certificate for the service IP.

use super::labels::object_labels;
use super::{Component, PlannedObject, REGISTRY_NAME, RenderContext, TLS_SECRET_NAME};
use crate::settings::ConnectedRegistrySettings;
use serde_json::{Value, json};
use std::net::IpAddr;

/// cert-manager's API group and version.
pub const CERT_MANAGER_API_VERSION: &str = "cert-manager.io/v1";
/// The self-signed Issuer that signs only the CA.
pub const SELF_SIGNED_ISSUER_NAME: &str = "connected-registry-selfsigned";
/// The CA Certificate, and the Secret cert-manager keeps the CA and its key in.
pub const CA_CERTIFICATE_NAME: &str = "connected-registry-ca";
/// The Issuer signing with the CA.
pub const CA_ISSUER_NAME: &str = "connected-registry-ca-issuer";
/// The serving Certificate; its Secret is [`TLS_SECRET_NAME`].
pub const SERVING_CERTIFICATE_NAME: &str = "connected-registry-tls";

/// The CA lives ten years; the DaemonSet follows it when it is renewed.
const CA_DURATION: &str = "87600h";
/// The serving certificate is renewed 30 days before it ends.
const SERVING_RENEW_BEFORE: &str = "720h";

/// The serving certificate cert-manager is asked for, described before it exists, so that
/// policies can check it like a certificate the user brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedServingCertificate {
    pub ip_addresses: Vec<IpAddr>,
    pub dns_names: Vec<String>,
    /// cert-manager's key algorithm name and size: ECDSA P-256.
    pub key_algorithm: &'static str,
    pub key_bits: u32,
    pub validity_days: u32,
}

impl PlannedServingCertificate {
    /// The certificate for the registry Service of `settings` in `namespace`: its service IP,
    /// its in-cluster names and `registryLoginServer` (a DNS name, or an IP address).
    pub fn new(settings: &ConnectedRegistrySettings, namespace: &str) -> Self {
        let mut ip_addresses = vec![settings.service_cluster_ip];
        let mut dns_names = vec![
            format!("{REGISTRY_NAME}.{namespace}.svc"),
            format!("{REGISTRY_NAME}.{namespace}.svc.cluster.local"),
        ];
        if let Some(login_server) = &settings.registry_login_server {
            match login_server.parse::<IpAddr>() {
                Ok(ip) if !ip_addresses.contains(&ip) => ip_addresses.push(ip),
                Ok(_) => {}
                Err(_) => dns_names.push(login_server.clone()),
            }
        }
        Self {
            ip_addresses,
            dns_names,
            key_algorithm: "ECDSA",
            key_bits: 256,
            validity_days: 90,
        }
    }
}

pub(super) fn issuer_chain(context: &RenderContext) -> Vec<PlannedObject> {
    let namespace = &context.options.namespace;
    let serving = PlannedServingCertificate::new(context.settings, namespace);
    let private_key = json!({
        "algorithm": serving.key_algorithm,
        "size": serving.key_bits,
        "rotationPolicy": "Always",
    });
    vec![
        custom_object(
            context,
            "Issuer",
            SELF_SIGNED_ISSUER_NAME,
            json!({ "selfSigned": {} }),
        ),
        custom_object(
            context,
            "Certificate",
            CA_CERTIFICATE_NAME,
            json!({
                "isCA": true,
                "commonName": format!("{} connected registry CA", context.instance),
                "secretName": CA_CERTIFICATE_NAME,
                "duration": CA_DURATION,
                "privateKey": private_key,
                "issuerRef": issuer_ref(SELF_SIGNED_ISSUER_NAME),
                "secretTemplate": { "labels": object_labels(&context.instance, Component::Tls) },
            }),
        ),
        custom_object(
            context,
            "Issuer",
            CA_ISSUER_NAME,
            json!({ "ca": { "secretName": CA_CERTIFICATE_NAME } }),
        ),
        custom_object(
            context,
            "Certificate",
            SERVING_CERTIFICATE_NAME,
            json!({
                "secretName": TLS_SECRET_NAME,
                "ipAddresses": serving
                    .ip_addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                "dnsNames": serving.dns_names,
                "duration": format!("{}h", serving.validity_days * 24),
                "renewBefore": SERVING_RENEW_BEFORE,
                "usages": ["server auth", "digital signature"],
                "privateKey": private_key,
                "issuerRef": issuer_ref(CA_ISSUER_NAME),
                "secretTemplate": { "labels": object_labels(&context.instance, Component::Tls) },
            }),
        ),
    ]
}

fn issuer_ref(name: &str) -> Value {
    json!({ "name": name, "kind": "Issuer", "group": "cert-manager.io" })
}

fn custom_object(context: &RenderContext, kind: &str, name: &str, spec: Value) -> PlannedObject {
    let namespace = context.options.namespace.clone();
    PlannedObject {
        api_version: CERT_MANAGER_API_VERSION.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.clone()),
        manifest: json!({
            "apiVersion": CERT_MANAGER_API_VERSION,
            "kind": kind,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": object_labels(&context.instance, Component::Tls),
            },
            "spec": spec,
        }),
        holds_secret: false,
    }
}
