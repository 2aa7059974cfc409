//! The Arc extension's setting names, which flag each belongs to, and did-you-mean suggestions.

pub const SERVICE_CLUSTER_IP: &str = "service.clusterIP";
pub const SERVICE_TYPE: &str = "service.type";
pub const PVC_STORAGE_CLASS_NAME: &str = "pvc.storageClassName";
pub const PVC_STORAGE_REQUEST: &str = "pvc.storageRequest";
pub const CERT_MANAGER_ENABLED: &str = "cert-manager.enabled";
pub const CERT_MANAGER_INSTALL: &str = "cert-manager.install";
pub const TRUST_DISTRIBUTION_ENABLED: &str = "trustDistribution.enabled";
pub const TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR: &str = "trustDistribution.skipNodeSelector";
/// The current name: `true` limits trust distribution to labelled nodes.
pub const TRUST_DISTRIBUTION_USE_NODE_SELECTOR: &str = "trustDistribution.useNodeSelector";
pub const REGISTRY_LOGIN_SERVER: &str = "registryLoginServer";
pub const HTTP_ENABLED: &str = "httpEnabled";

/// This tool's own keys: the container contract ([`super::ContainerProfile`]).
pub const CONTAINER_IMAGE: &str = "container.image";
pub const CONTAINER_HTTPS_PORT: &str = "container.httpsPort";
pub const CONTAINER_HTTP_PORT: &str = "container.httpPort";
pub const CONTAINER_RUN_AS_USER: &str = "container.runAsUser";
pub const CONTAINER_DATA_PATH: &str = "container.dataPath";
pub const CONTAINER_CERTS_PATH: &str = "container.certsPath";
pub const CONTAINER_CERT_FILE: &str = "container.certFile";
pub const CONTAINER_KEY_FILE: &str = "container.keyFile";

pub const CONNECTION_STRING: &str = "connectionString";
pub const TLS_CRT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";
pub const TLS_CACRT: &str = "tls.cacrt";
pub const TLS_SECRET: &str = "tls.secret";

/// Settings passed with `--config`.
pub const PUBLIC: [&str; 19] = [
    SERVICE_CLUSTER_IP,
    SERVICE_TYPE,
    PVC_STORAGE_CLASS_NAME,
    PVC_STORAGE_REQUEST,
    CERT_MANAGER_ENABLED,
    CERT_MANAGER_INSTALL,
    TRUST_DISTRIBUTION_ENABLED,
    TRUST_DISTRIBUTION_USE_NODE_SELECTOR,
    TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR,
    REGISTRY_LOGIN_SERVER,
    HTTP_ENABLED,
    CONTAINER_IMAGE,
    CONTAINER_HTTPS_PORT,
    CONTAINER_HTTP_PORT,
    CONTAINER_RUN_AS_USER,
    CONTAINER_DATA_PATH,
    CONTAINER_CERTS_PATH,
    CONTAINER_CERT_FILE,
    CONTAINER_KEY_FILE,
];

/// Settings passed with `--config-protected` or `--config-protected-file`.
pub const PROTECTED: [&str; 5] = [CONNECTION_STRING, TLS_CRT, TLS_KEY, TLS_CACRT, TLS_SECRET];

/// Protected settings the Arc extension's guides also pass with `--config` (the managed-identity
/// guide passes `connectionString` so); they are held as secrets wherever they come from.
pub const PROTECTED_ALSO_PUBLIC: [&str; 1] = [CONNECTION_STRING];

/// The known name closest to `unknown`, if any is close enough to be a likely typo.
pub fn closest(unknown: &str, known: &[&'static str]) -> Option<&'static str> {
    let lowered = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|candidate| {
            let score = strsim::jaro_winkler(&lowered, &candidate.to_ascii_lowercase());
            (*candidate, score)
        })
        .filter(|(_, score)| *score >= 0.85)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_case_slips() {
        assert_eq!(
            closest("service.clusterIp", &PUBLIC),
            Some(SERVICE_CLUSTER_IP)
        );
        assert_eq!(
            closest("certmanager.enabled", &PUBLIC),
            Some(CERT_MANAGER_ENABLED)
        );
        assert_eq!(closest("tls.cert", &PROTECTED), Some(TLS_CRT));
        assert_eq!(closest("replicas", &PUBLIC), None);
    }
}
