//! Built-in policy: the serving certificate names what clients connect to. For a connected
//! registry that is `service.clusterIP`, checked against the actual certificate (`tls.crt` or
//! `tls.secret`, role `serving`) or, with cert-manager, the one it will issue (role
//! `planned-serving`). For a custom domain it is `object.registryDomain` and every value of
//! `object.dataDomains` (region to domain), each of which some serving certificate must cover.
//!
//! Only a certificate given in the settings (`tls.crt`) must be described in the review; one in
//! a Secret the host could not read, or one cert-manager has yet to issue, without facts only
//! warns.

mod rule;

pub use rule::*;
use wasm_guest::no_settings;

wasm_guest::export_policy! {
    metadata: include_str!("../metadata.json"),
    evaluate: evaluate,
    validate_settings: no_settings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_guest::serde_json::{self, Value, json};
    use wasm_guest::{Review, Verdict, accept};

    fn review(subject: &str, object: Value, certificates: Value) -> Review {
        serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": subject,
            "object": object,
            "facts": { "certificates": certificates }
        }))
        .expect("test review parses")
    }

    fn own_certificate(object_extra: Value) -> Value {
        let mut object = json!({
            "service.clusterIP": "192.100.100.1",
            "cert-manager.enabled": false,
            "cert-manager.install": false,
            "protected": { "tls.crt": "1 certificate (PEM)", "tls.key": "<redacted>" }
        });
        if let (Some(object), Some(extra)) = (object.as_object_mut(), object_extra.as_object()) {
            object.extend(extra.clone());
        }
        object
    }

    fn serving(ips: &[&str], dns: &[&str]) -> Value {
        json!({
            "role": "serving",
            "subject": "CN=connected-registry",
            "subjectAltNames": { "ip": ips, "dns": dns }
        })
    }

    /// The (code, field) of each violation, in order.
    fn violations(verdict: &Verdict) -> Vec<(&str, Option<&str>)> {
        assert_eq!(verdict.allowed, verdict.violations.is_empty());
        verdict
            .violations
            .iter()
            .map(|violation| (violation.code.as_str(), violation.field.as_deref()))
            .collect()
    }

    /// The (code, field) of each warning of an allowed verdict.
    fn warnings(verdict: &Verdict) -> Vec<(&str, Option<&str>)> {
        assert!(verdict.allowed && verdict.violations.is_empty());
        verdict
            .warnings
            .iter()
            .map(|warning| (warning.code.as_str(), warning.field.as_deref()))
            .collect()
    }

    #[test]
    fn own_certificate_covering_the_service_ip_is_allowed() {
        let certs = json!([serving(&["10.0.0.1", "192.100.100.1"], &[]), { "role": "ca" }]);
        let verdict = evaluate(&review(
            "connected-registry",
            own_certificate(json!({})),
            certs,
        ));
        assert_eq!(verdict, accept());
    }

    #[test]
    fn ipv6_service_ips_compare_as_addresses() {
        let object = own_certificate(json!({ "service.clusterIP": "fd00::10" }));
        let verdict = evaluate(&review(
            "connected-registry",
            object,
            json!([serving(&["fd00:0:0::10"], &[])]),
        ));
        assert_eq!(verdict, accept());
    }

    #[test]
    fn own_certificate_missing_the_ip_is_denied_on_tls_crt() {
        let verdict = evaluate(&review(
            "connected-registry",
            own_certificate(json!({})),
            json!([serving(&["10.0.0.1"], &["192.100.100.1"])]),
        ));
        assert_eq!(
            violations(&verdict),
            vec![(SAN_MISSING_SERVICE_IP, Some("tls.crt"))]
        );
        let message = &verdict.violations[0].message;
        assert!(message.contains("(it lists 10.0.0.1; "), "{message}");
        assert!(
            message.contains("192.100.100.1 appears only as a DNS name"),
            "{message}"
        );
    }

    #[test]
    fn cn_only_certificate_is_denied_as_such() {
        let verdict = evaluate(&review(
            "connected-registry",
            own_certificate(json!({})),
            json!([{ "role": "serving", "subject": "CN=192.100.100.1", "commonName": "192.100.100.1" }]),
        ));
        assert_eq!(
            violations(&verdict),
            vec![(CN_ONLY_CERTIFICATE, Some("tls.crt"))]
        );
    }

    #[test]
    fn missing_facts_deny_for_tls_crt_and_warn_otherwise() {
        let byoc = evaluate(&review(
            "connected-registry",
            own_certificate(json!({})),
            json!([{ "role": "ca" }]),
        ));
        assert_eq!(
            violations(&byoc),
            vec![(NO_SERVING_CERTIFICATE, Some("tls.crt"))]
        );
        let secret = json!({
            "service.clusterIP": "192.100.100.1",
            "cert-manager.enabled": false,
            "protected": { "tls.secret": "registry-tls" }
        });
        let from_secret = evaluate(&review("connected-registry", secret, json!([])));
        assert_eq!(
            warnings(&from_secret),
            vec![(SERVING_CERTIFICATE_NOT_CHECKED, Some("tls.secret"))]
        );
        let cert_manager = json!({ "service.clusterIP": "192.100.100.1" });
        let planned = evaluate(&review(
            "connected-registry",
            cert_manager,
            json!([serving(&["192.100.100.1"], &[])]),
        ));
        assert_eq!(
            warnings(&planned),
            vec![(SERVING_CERTIFICATE_NOT_CHECKED, Some("service.clusterIP"))]
        );
    }

    #[test]
    fn cert_manager_checks_the_planned_certificate_only() {
        let object = json!({ "service.clusterIP": "192.100.100.1", "cert-manager.enabled": true });
        let planned_ok = json!([
            { "role": "planned-serving", "subjectAltNames": { "ip": ["192.100.100.1"] } },
            serving(&[], &["elsewhere.example"])
        ]);
        assert_eq!(
            evaluate(&review("connected-registry", object.clone(), planned_ok)),
            accept()
        );
        let planned_wrong =
            json!([{ "role": "planned-serving", "subjectAltNames": { "ip": ["192.100.100.2"] } }]);
        assert_eq!(
            violations(&evaluate(&review(
                "connected-registry",
                object,
                planned_wrong
            ))),
            vec![(SAN_MISSING_SERVICE_IP, Some("service.clusterIP"))]
        );
    }

    #[test]
    fn service_ip_must_be_an_address() {
        for object in [
            json!({ "cert-manager.enabled": false }),
            json!({ "service.clusterIP": "192.100.100.0/24" }),
        ] {
            let verdict = evaluate(&review("connected-registry", object, json!([])));
            assert_eq!(
                violations(&verdict),
                vec![(SERVICE_IP_MISSING, Some("service.clusterIP"))]
            );
        }
    }

    fn domains() -> Value {
        json!({
            "registryDomain": "registry.contoso.com",
            "dataDomains": { "eastus": "eastus.data.contoso.com", "westeurope": "westeurope.data.contoso.com" }
        })
    }

    #[test]
    fn custom_domains_covered_by_names_and_wildcards_are_allowed() {
        let certs = json!([
            serving(&[], &["registry.contoso.com"]),
            serving(&[], &["*.data.contoso.com"])
        ]);
        assert_eq!(
            evaluate(&review("custom-domain", domains(), certs)),
            accept()
        );
    }

    #[test]
    fn uncovered_custom_domains_are_denied_each() {
        let certs = json!([serving(&[], &["*.contoso.com"])]);
        let verdict = evaluate(&review("custom-domain", domains(), certs));
        assert_eq!(
            violations(&verdict),
            vec![
                (SAN_MISSING_DOMAIN, Some("dataDomains.eastus")),
                (SAN_MISSING_DOMAIN, Some("dataDomains.westeurope")),
            ]
        );
    }

    #[test]
    fn custom_domain_needs_a_domain_and_a_certificate() {
        let verdict = evaluate(&review(
            "custom-domain",
            json!({ "dataDomains": { "eastus": 5 } }),
            json!([]),
        ));
        assert_eq!(
            violations(&verdict),
            vec![
                (DOMAIN_MISSING, Some("registryDomain")),
                (DOMAIN_MISSING, Some("dataDomains.eastus")),
                (NO_SERVING_CERTIFICATE, Some("registryDomain")),
            ]
        );
    }

    #[test]
    fn cn_only_custom_domain_certificate_is_named() {
        let verdict = evaluate(&review(
            "custom-domain",
            json!({ "registryDomain": "registry.contoso.com" }),
            json!([{ "role": "serving", "subject": "CN=registry.contoso.com" }]),
        ));
        assert_eq!(
            violations(&verdict),
            vec![
                (CN_ONLY_CERTIFICATE, None),
                (SAN_MISSING_DOMAIN, Some("registryDomain"))
            ]
        );
    }
}
