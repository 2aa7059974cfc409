//! The deployed connected registry as clients reach it: its Service's cluster IP and port, and
//! the CA they trust, from `ca.crt` of the Secret the registry serves its certificate from.

use super::error::ClusterError;
use super::object_name;
use super::requests::Requests;
use super::resources::known;
use super::status::serving_secret_name;
use crate::plan::{REGISTRY_NAME, TLS_SECRET_NAME};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};

/// The Secret key of the CA certificate.
const CA_KEY: &str = "ca.crt";

/// Where the deployed registry listens and what it is signed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEndpoint {
    /// `Service namespace/name`.
    pub service: String,
    /// `CLUSTER-IP:PORT`.
    pub server: String,
    /// `Secret namespace/name` holding the CA.
    pub ca_secret: String,
    /// The secret's `ca.crt` (PEM); `None` when it has none.
    pub ca_pem: Option<Vec<u8>>,
}

pub(crate) async fn read(
    requests: &Requests,
    namespace: &str,
) -> Result<RegistryEndpoint, ClusterError> {
    let service_name = object_name("Service", Some(namespace), REGISTRY_NAME);
    let missing = |object: String, hint: &str| ClusterError::Missing {
        object,
        hint: hint.to_owned(),
    };
    let service: Service = requests
        .get(&known("v1", "Service"), Some(namespace), REGISTRY_NAME)
        .await?
        .ok_or_else(|| {
            missing(
                service_name.clone(),
                "deploy the connected registry (kubectl acr deploy), check -n, or give --server",
            )
        })?;
    let spec = service.spec.unwrap_or_default();
    let ip = spec
        .cluster_ip
        .filter(|ip| !ip.is_empty() && ip != "None")
        .ok_or_else(|| missing(format!("the cluster IP of {service_name}"), "give --server"))?;
    let port = spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .next()
        .map(|port| port.port)
        .ok_or_else(|| missing(format!("a port of {service_name}"), "give --server"))?;
    let server = match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{ip}:{port}"),
    };
    let deployment: Option<Deployment> = requests
        .get(
            &known("apps/v1", "Deployment"),
            Some(namespace),
            REGISTRY_NAME,
        )
        .await?;
    let secret_name = deployment
        .as_ref()
        .and_then(serving_secret_name)
        .unwrap_or_else(|| TLS_SECRET_NAME.to_owned());
    let secret: Option<Secret> = requests
        .get(&known("v1", "Secret"), Some(namespace), &secret_name)
        .await?;
    let ca_pem = secret
        .and_then(|secret| secret.data)
        .and_then(|mut data| data.remove(CA_KEY))
        .map(|bytes| bytes.0);
    Ok(RegistryEndpoint {
        service: service_name,
        server,
        ca_secret: object_name("Secret", Some(namespace), &secret_name),
        ca_pem,
    })
}
