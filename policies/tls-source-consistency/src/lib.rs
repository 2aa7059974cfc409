//! Built-in policy: the cert-manager flags and the protected TLS settings name exactly one
//! source of the serving certificate, as the settings parser insists (DESIGN.md section 4):
//! cert-manager with no TLS material of your own; cert-manager disabled and not installed with
//! `tls.crt` and its matching `tls.key` (and optionally `tls.cacrt`); or `tls.secret` alone.
//! Defence in depth for reviews that did not come through the parser (`--input review.json`).

use wasm_guest::{CertificateRole, Review, Verdict, accept, no_settings, reject};

/// cert-manager is enabled, yet TLS material of your own is given and would be ignored.
pub const TLS_MATERIAL_WITH_CERT_MANAGER: &str = "TLS_MATERIAL_WITH_CERT_MANAGER";
/// cert-manager is disabled but would still be installed.
pub const CERT_MANAGER_INSTALL_WHILE_DISABLED: &str = "CERT_MANAGER_INSTALL_WHILE_DISABLED";
/// `tls.secret` is given together with `tls.crt`, `tls.key` or `tls.cacrt`.
pub const TLS_SECRET_WITH_OWN_MATERIAL: &str = "TLS_SECRET_WITH_OWN_MATERIAL";
/// `tls.crt` without `tls.key`.
pub const TLS_KEY_MISSING: &str = "TLS_KEY_MISSING";
/// `tls.key` without `tls.crt`.
pub const TLS_CRT_MISSING: &str = "TLS_CRT_MISSING";
/// cert-manager is off and no certificate or Secret is given.
pub const NO_TLS_SOURCE: &str = "NO_TLS_SOURCE";
/// The host found that the private key does not belong to the serving certificate.
pub const TLS_KEY_MISMATCH: &str = "TLS_KEY_MISMATCH";

/// The protected settings that carry TLS material of your own, in the order they are reported.
const OWN_TLS_MATERIAL: [&str; 4] = ["tls.crt", "tls.key", "tls.cacrt", "tls.secret"];

fn evaluate(review: &Review) -> Verdict {
    let given: Vec<&str> = OWN_TLS_MATERIAL
        .into_iter()
        .filter(|key| review.protected_setting(key).is_some())
        .collect();
    if review.setting_bool("cert-manager.enabled", true) {
        return match given.first() {
            Some(first) => reject(
                TLS_MATERIAL_WITH_CERT_MANAGER,
                &format!(
                    "cert-manager.enabled is true, so cert-manager issues the serving certificate \
                     and {} would be ignored: leave them out, or set cert-manager.enabled=false \
                     and cert-manager.install=false to bring your own",
                    given.join(", ")
                ),
                Some(first),
            ),
            None => accept(),
        };
    }
    let mut verdict = accept();
    if review.setting_bool("cert-manager.install", true) {
        let how = if review.setting("cert-manager.install").is_some() {
            "true"
        } else {
            "true by default"
        };
        verdict = verdict.reject(
            CERT_MANAGER_INSTALL_WHILE_DISABLED,
            &format!(
                "cert-manager.enabled is false but cert-manager.install is {how}, and cert-manager \
                 cannot be installed while disabled: set cert-manager.install=false"
            ),
            Some("cert-manager.install"),
        );
    }
    let has = |key: &str| given.contains(&key);
    if has("tls.secret") {
        for key in ["tls.crt", "tls.key", "tls.cacrt"]
            .into_iter()
            .filter(|key| has(key))
        {
            let why = if key == "tls.cacrt" {
                "the CA of an existing Secret is its ca.crt entry: leave tls.cacrt out"
            } else {
                "give either an existing Secret or your own certificate and key, not both"
            };
            verdict = verdict.reject(
                TLS_SECRET_WITH_OWN_MATERIAL,
                &format!("tls.secret names an existing Secret, so {key} would be ignored; {why}"),
                Some(key),
            );
        }
    } else {
        verdict = match (has("tls.crt"), has("tls.key")) {
            (true, true) => verdict,
            (true, false) => verdict.reject(
                TLS_KEY_MISSING,
                "tls.crt is given without its private key: add tls.key",
                Some("tls.key"),
            ),
            (false, true) => verdict.reject(
                TLS_CRT_MISSING,
                "tls.key is given without its certificate: add tls.crt",
                Some("tls.crt"),
            ),
            (false, false) => verdict.reject(
                NO_TLS_SOURCE,
                "with cert-manager off, give your own certificate (tls.crt and tls.key) or an \
                 existing Secret (tls.secret) in the protected settings",
                Some("tls.crt"),
            ),
        };
    }
    let key_field = if has("tls.secret") {
        "tls.secret"
    } else {
        "tls.key"
    };
    review
        .facts
        .certificates_with_role(CertificateRole::Serving)
        .filter(|certificate| certificate.key_matches == Some(false))
        .fold(verdict, |verdict, certificate| {
            verdict.reject(
                TLS_KEY_MISMATCH,
                &format!(
                    "the private key given is not the key of {}: give the key the certificate \
                     was issued for",
                    certificate.describe()
                ),
                Some(key_field),
            )
        })
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

    fn flags_off(protected: Value) -> Value {
        json!({ "cert-manager.enabled": false, "cert-manager.install": false, "protected": protected })
    }

    fn violations(verdict: &Verdict) -> Vec<(&str, Option<&str>)> {
        assert_eq!(verdict.allowed, verdict.violations.is_empty());
        verdict
            .violations
            .iter()
            .map(|violation| (violation.code.as_str(), violation.field.as_deref()))
            .collect()
    }

    const PEM: &str = "1 certificate (PEM)";
    const KEY: &str = "<redacted>";

    #[test]
    fn the_three_sources_are_allowed() {
        assert_eq!(evaluate(&review(json!({}), json!([]))), accept());
        let install_false = json!({ "cert-manager.install": false, "protected": {} });
        assert_eq!(evaluate(&review(install_false, json!([]))), accept());
        let own = flags_off(json!({ "tls.crt": PEM, "tls.key": KEY, "tls.cacrt": PEM }));
        let matching = json!([{ "role": "serving", "keyMatches": true }]);
        assert_eq!(evaluate(&review(own, matching)), accept());
        let secret = flags_off(json!({ "tls.secret": "registry-tls", "tls.cacrt": null }));
        assert_eq!(evaluate(&review(secret, json!([]))), accept());
    }

    #[test]
    fn own_material_with_cert_manager_is_denied_once_naming_all() {
        let object = json!({ "protected": { "tls.key": KEY, "tls.secret": "registry-tls" } });
        let verdict = evaluate(&review(object, json!([])));
        assert_eq!(
            violations(&verdict),
            vec![(TLS_MATERIAL_WITH_CERT_MANAGER, Some("tls.key"))]
        );
        assert!(
            verdict.violations[0]
                .message
                .contains("tls.key, tls.secret would be ignored"),
            "{}",
            verdict.violations[0].message
        );
    }

    #[test]
    fn disabled_cert_manager_must_not_be_installed() {
        let object = json!({ "cert-manager.enabled": false, "protected": { "tls.secret": "s" } });
        let verdict = evaluate(&review(object, json!([])));
        assert_eq!(
            violations(&verdict),
            vec![(
                CERT_MANAGER_INSTALL_WHILE_DISABLED,
                Some("cert-manager.install")
            )]
        );
        assert!(verdict.violations[0].message.contains("true by default"));
    }

    #[test]
    fn a_secret_excludes_own_material() {
        let object = flags_off(json!({ "tls.secret": "s", "tls.crt": PEM, "tls.cacrt": PEM }));
        assert_eq!(
            violations(&evaluate(&review(object, json!([])))),
            vec![
                (TLS_SECRET_WITH_OWN_MATERIAL, Some("tls.crt")),
                (TLS_SECRET_WITH_OWN_MATERIAL, Some("tls.cacrt")),
            ]
        );
    }

    #[test]
    fn certificate_and_key_come_as_a_pair() {
        let crt_only = flags_off(json!({ "tls.crt": PEM }));
        assert_eq!(
            violations(&evaluate(&review(crt_only, json!([])))),
            vec![(TLS_KEY_MISSING, Some("tls.key"))]
        );
        let key_only = flags_off(json!({ "tls.key": KEY }));
        assert_eq!(
            violations(&evaluate(&review(key_only, json!([])))),
            vec![(TLS_CRT_MISSING, Some("tls.crt"))]
        );
        let ca_only = flags_off(json!({ "tls.cacrt": PEM }));
        assert_eq!(
            violations(&evaluate(&review(ca_only, json!([])))),
            vec![(NO_TLS_SOURCE, Some("tls.crt"))]
        );
    }

    #[test]
    fn a_key_that_does_not_match_is_denied() {
        let own = flags_off(json!({ "tls.crt": PEM, "tls.key": KEY }));
        let mismatch = json!([{ "role": "serving", "subject": "CN=r", "keyMatches": false }, { "role": "ca", "keyMatches": false }]);
        assert_eq!(
            violations(&evaluate(&review(own, mismatch.clone()))),
            vec![(TLS_KEY_MISMATCH, Some("tls.key"))]
        );
        let secret = flags_off(json!({ "tls.secret": "s" }));
        assert_eq!(
            violations(&evaluate(&review(secret, mismatch))),
            vec![(TLS_KEY_MISMATCH, Some("tls.secret"))]
        );
    }
}
