//! The Arc extension's setting names, which flag each belongs to, and did-you-mean suggestions.

pub const SERVICE_CLUSTER_IP: &str = "service.clusterIP";
pub const PVC_STORAGE_CLASS_NAME: &str = "pvc.storageClassName";
pub const PVC_STORAGE_REQUEST: &str = "pvc.storageRequest";
pub const CERT_MANAGER_ENABLED: &str = "cert-manager.enabled";
pub const CERT_MANAGER_INSTALL: &str = "cert-manager.install";
pub const TRUST_DISTRIBUTION_ENABLED: &str = "trustDistribution.enabled";
pub const TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR: &str = "trustDistribution.skipNodeSelector";
/// Alias of [`TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR`] with the opposite meaning.
pub const TRUST_DISTRIBUTION_USE_NODE_SELECTOR: &str = "trustDistribution.useNodeSelector";

pub const CONNECTION_STRING: &str = "connectionString";
pub const TLS_CRT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";
pub const TLS_CACRT: &str = "tls.cacrt";
pub const TLS_SECRET: &str = "tls.secret";

/// Settings passed with `--config`.
pub const PUBLIC: [&str; 8] = [
    SERVICE_CLUSTER_IP,
    PVC_STORAGE_CLASS_NAME,
    PVC_STORAGE_REQUEST,
    CERT_MANAGER_ENABLED,
    CERT_MANAGER_INSTALL,
    TRUST_DISTRIBUTION_ENABLED,
    TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR,
    TRUST_DISTRIBUTION_USE_NODE_SELECTOR,
];

/// Settings passed with `--config-protected` or `--config-protected-file`.
pub const PROTECTED: [&str; 5] = [CONNECTION_STRING, TLS_CRT, TLS_KEY, TLS_CACRT, TLS_SECRET];

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
