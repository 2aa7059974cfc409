//! The Secrets built from protected settings: the connection string, and the `kubernetes.io/tls`
//! Secret of a certificate the user brought (BYOC).

use super::{
    CONNECTION_SECRET_NAME, CONNECTION_STRING_KEY, Component, PlanError, PlannedObject,
    RenderContext, TLS_SECRET_NAME, planned,
};
use crate::secret::SecretString;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use std::collections::BTreeMap;

/// Key of the serving certificate (and chain) in a `kubernetes.io/tls` Secret.
pub(super) const TLS_CERT_KEY: &str = "tls.crt";
/// Key of the private key in a `kubernetes.io/tls` Secret.
pub(super) const TLS_KEY_KEY: &str = "tls.key";
/// Key of the CA certificate, as cert-manager writes it.
pub(super) const CA_CERT_KEY: &str = "ca.crt";

pub(super) fn connection_secret(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let data = BTreeMap::from([(
        CONNECTION_STRING_KEY.to_owned(),
        ByteString(context.connection_string.clone().into_bytes()),
    )]);
    planned(
        &Secret {
            metadata: context.metadata(CONNECTION_SECRET_NAME, Component::Credentials),
            type_: Some("Opaque".to_owned()),
            data: Some(data),
            ..Secret::default()
        },
        true,
    )
}

pub(super) fn tls_secret(
    context: &RenderContext,
    cert_pem: &str,
    key_pem: &SecretString,
    ca_pem: Option<&str>,
) -> Result<PlannedObject, PlanError> {
    let mut data = BTreeMap::from([
        (
            TLS_CERT_KEY.to_owned(),
            ByteString(cert_pem.as_bytes().to_vec()),
        ),
        (
            TLS_KEY_KEY.to_owned(),
            ByteString(key_pem.expose().as_bytes().to_vec()),
        ),
    ]);
    if let Some(ca_pem) = ca_pem {
        data.insert(
            CA_CERT_KEY.to_owned(),
            ByteString(ca_pem.as_bytes().to_vec()),
        );
    }
    planned(
        &Secret {
            metadata: context.metadata(TLS_SECRET_NAME, Component::Tls),
            type_: Some("kubernetes.io/tls".to_owned()),
            data: Some(data),
            ..Secret::default()
        },
        true,
    )
}
