//! The answer a policy gives (ABI v1 output JSON) and the verbs that build it.

use serde::{Deserialize, Serialize};

/// A policy's answer to a review.
///
/// `allowed` is `false` exactly when `violations` is not empty; the host treats any other
/// combination as a broken policy (an error, not a deny).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub allowed: bool,
    #[serde(default)]
    pub violations: Vec<Violation>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Why a review is denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Stable, machine-readable, for example `TRUST_DISTRIBUTION_WITHOUT_CA`.
    pub code: String,
    /// One sentence for people, saying what to change.
    pub message: String,
    /// The setting or field it is about, for example `tls.cacrt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Something worth knowing that does not deny the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable, machine-readable, for example `CERTIFICATE_EXPIRES_SOON`.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A verdict that allows the review, without warnings.
pub fn accept() -> Verdict {
    Verdict {
        allowed: true,
        violations: Vec::new(),
        warnings: Vec::new(),
    }
}

/// A verdict that denies the review for one reason.
pub fn reject(code: &str, message: &str, field: Option<&str>) -> Verdict {
    accept().reject(code, message, field)
}

impl Verdict {
    /// Adds a violation, which makes the verdict a deny.
    #[must_use]
    pub fn reject(mut self, code: &str, message: &str, field: Option<&str>) -> Self {
        self.allowed = false;
        self.violations.push(Violation {
            code: code.to_owned(),
            message: message.to_owned(),
            field: field.map(str::to_owned),
        });
        self
    }

    /// Adds a warning; the verdict stays as allowed or denied as it was.
    #[must_use]
    pub fn warn(mut self, code: &str, message: &str, field: Option<&str>) -> Self {
        self.warnings.push(Warning {
            code: code.to_owned(),
            message: message.to_owned(),
            field: field.map(str::to_owned),
        });
        self
    }

    /// Whether `allowed` agrees with the violations: denied exactly when there are some.
    pub fn is_consistent(&self) -> bool {
        self.allowed == self.violations.is_empty()
    }
}

/// The answer of the optional `acr_validate_settings` export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsValidation {
    pub valid: bool,
    /// Why the settings are not valid; absent when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl SettingsValidation {
    /// The answer for settings `validate` accepted or refused with a message.
    pub fn from_result(result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Self {
                valid: true,
                message: None,
            },
            Err(message) => Self {
                valid: false,
                message: Some(message),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verbs_build_consistent_verdicts() {
        let allowed = accept().warn("SOON", "expires soon", Some("tls.crt"));
        assert!(allowed.allowed && allowed.is_consistent());
        assert_eq!(allowed.warnings[0].field.as_deref(), Some("tls.crt"));

        let denied = reject("NO_CA", "set tls.cacrt", Some("tls.cacrt")).reject("B", "b", None);
        assert!(!denied.allowed && denied.is_consistent());
        assert_eq!(denied.violations.len(), 2);
    }

    #[test]
    fn verdict_json_uses_the_abi_field_names() {
        let verdict = reject("NO_CA", "set tls.cacrt", Some("tls.cacrt")).warn("W", "w", None);
        assert_eq!(
            serde_json::to_value(&verdict).expect("serialises"),
            json!({
                "allowed": false,
                "violations": [{ "code": "NO_CA", "message": "set tls.cacrt", "field": "tls.cacrt" }],
                "warnings": [{ "code": "W", "message": "w" }]
            })
        );
    }

    #[test]
    fn inconsistent_verdicts_are_recognised() {
        let denied_without_reason: Verdict =
            serde_json::from_value(json!({ "allowed": false })).expect("parses");
        assert!(!denied_without_reason.is_consistent());
        let allowed_with_violation = Verdict {
            allowed: true,
            ..reject("X", "x", None)
        };
        assert!(!allowed_with_violation.is_consistent());
    }

    #[test]
    fn settings_validation_answers() {
        assert_eq!(
            serde_json::to_value(SettingsValidation::from_result(Ok(()))).expect("serialises"),
            json!({ "valid": true })
        );
        assert_eq!(
            serde_json::to_value(SettingsValidation::from_result(Err("bad".into())))
                .expect("serialises"),
            json!({ "valid": false, "message": "bad" })
        );
    }
}
