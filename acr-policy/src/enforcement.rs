//! What a policy's verdict does, as a policy set entry says it: whether its violations deny or
//! only warn, and whether its errors fail closed or open.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a policy's violations do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Enforcement {
    /// Violations deny the review.
    #[default]
    Deny,
    /// Violations, and errors, are reported as warnings; the policy never blocks.
    Warn,
}

/// What a policy's errors (traps, limits, nonsense answers, load failures) do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Fail closed: the error blocks the review.
    #[default]
    Deny,
    /// Fail open: the error is reported as a warning.
    Allow,
}

impl Enforcement {
    /// As the policy set file writes it: `deny` or `warn`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Warn => "warn",
        }
    }
}

impl OnError {
    /// As the policy set file writes it: `deny` or `allow`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Allow => "allow",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl fmt::Display for OnError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enforcement_and_on_error_names_are_the_policy_set_file_words() {
        for enforcement in [Enforcement::Deny, Enforcement::Warn] {
            assert_eq!(json!(enforcement), json!(enforcement.name()));
            assert_eq!(
                serde_json::from_value::<Enforcement>(json!(enforcement.to_string())).ok(),
                Some(enforcement)
            );
        }
        for on_error in [OnError::Deny, OnError::Allow] {
            assert_eq!(json!(on_error), json!(on_error.name()));
            assert_eq!(
                serde_json::from_value::<OnError>(json!(on_error.to_string())).ok(),
                Some(on_error)
            );
        }
    }
}
