//! Built-in policy: with trust distribution off, nodes only trust the registry if it is served
//! under a CA they already trust, so a custom CA must be given (`tls.cacrt`, or a `tls.secret`
//! whose `ca.crt` the host found).

use wasm_guest::{CertificateRole, Review, Verdict, accept, log, no_settings, reject};

/// The stable code of this policy's one violation.
pub const TRUST_DISTRIBUTION_WITHOUT_CA: &str = "TRUST_DISTRIBUTION_WITHOUT_CA";

fn evaluate(review: &Review) -> Verdict {
    if review.setting_bool("trustDistribution.enabled", true) {
        return accept();
    }
    if review.protected_setting("tls.cacrt").is_some() {
        return accept();
    }
    let has_ca_fact = review
        .facts
        .certificates_with_role(CertificateRole::Ca)
        .next()
        .is_some();
    match review.protected_setting("tls.secret") {
        Some(_) if has_ca_fact => accept(),
        Some(secret) => {
            log(&format!(
                "tls.secret {secret} has no ca.crt among the facts"
            ));
            reject(
                TRUST_DISTRIBUTION_WITHOUT_CA,
                "trustDistribution.enabled is false, so nodes must already trust the registry's \
                 CA, but the tls.secret holds no ca.crt: add ca.crt to the Secret, or turn trust \
                 distribution on",
                Some("tls.secret"),
            )
        }
        None => reject(
            TRUST_DISTRIBUTION_WITHOUT_CA,
            "trustDistribution.enabled is false, so nodes must already trust the registry's CA: \
             give tls.cacrt (or a tls.secret holding ca.crt), or turn trust distribution on",
            Some("tls.cacrt"),
        ),
    }
}

wasm_guest::export_policy! {
    metadata: include_str!("../metadata.json"),
    evaluate: evaluate,
    validate_settings: no_settings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_guest::serde_json::{self, Value, json};

    fn review(object: Value, certificates: Value) -> Review {
        serde_json::from_value(json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "object": object,
            "facts": { "certificates": certificates }
        }))
        .expect("test review parses")
    }

    fn violation_field(verdict: &Verdict) -> Option<&str> {
        assert!(!verdict.allowed);
        assert_eq!(verdict.violations.len(), 1);
        assert_eq!(verdict.violations[0].code, TRUST_DISTRIBUTION_WITHOUT_CA);
        verdict.violations[0].field.as_deref()
    }

    #[test]
    fn trust_distribution_on_needs_nothing() {
        assert_eq!(evaluate(&review(json!({}), json!([]))), accept());
        let on = json!({ "trustDistribution.enabled": true });
        assert_eq!(evaluate(&review(on, json!([]))), accept());
    }

    #[test]
    fn trust_distribution_off_without_ca_is_denied_on_tls_cacrt() {
        let off = json!({ "trustDistribution.enabled": false, "protected": {} });
        assert_eq!(
            violation_field(&evaluate(&review(off, json!([])))),
            Some("tls.cacrt")
        );
    }

    #[test]
    fn trust_distribution_off_with_tls_cacrt_is_allowed() {
        let object = json!({
            "trustDistribution.enabled": false,
            "protected": { "tls.crt": "1 certificate (PEM)", "tls.cacrt": "1 certificate (PEM)" }
        });
        assert_eq!(
            evaluate(&review(object, json!([{ "role": "ca" }]))),
            accept()
        );
    }

    #[test]
    fn trust_distribution_off_with_secret_holding_ca_is_allowed() {
        let object = json!({ "trustDistribution.enabled": false, "protected": { "tls.secret": "registry-tls" } });
        let facts = json!([{ "role": "serving" }, { "role": "ca", "isCa": true }]);
        assert_eq!(evaluate(&review(object, facts)), accept());
    }

    #[test]
    fn trust_distribution_off_with_secret_lacking_ca_is_denied_on_tls_secret() {
        let object = json!({ "trustDistribution.enabled": false, "protected": { "tls.secret": "registry-tls" } });
        let verdict = evaluate(&review(object, json!([{ "role": "serving" }])));
        assert_eq!(violation_field(&verdict), Some("tls.secret"));
        assert_eq!(
            wasm_guest::take_logged(),
            vec![r#"tls.secret "registry-tls" has no ca.crt among the facts"#]
        );
    }

    #[test]
    fn null_tls_cacrt_does_not_count() {
        let object =
            json!({ "trustDistribution.enabled": false, "protected": { "tls.cacrt": null } });
        assert_eq!(
            violation_field(&evaluate(&review(object, json!([])))),
            Some("tls.cacrt")
        );
    }

    #[test]
    fn settings_must_be_empty() {
        assert_eq!(no_settings(&Value::Null), Ok(()));
        assert_eq!(no_settings(&json!({})), Ok(()));
        assert_eq!(
            no_settings(&json!({ "strict": true })),
            Err("this policy takes no settings".to_owned())
        );
    }
}
