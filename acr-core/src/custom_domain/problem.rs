//! One reason the certificate for the custom domains is refused: a stable code, what it is
//! about and the detail.

use serde::Serialize;
use std::fmt;

/// One reason the certificate is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A stable kebab-case identifier, e.g. `san-covers`, `chain-order`, `missing-intermediate`.
    pub code: String,
    /// What it is about: a file, a certificate subject or a domain.
    pub subject: String,
    pub detail: String,
}

impl Problem {
    pub(super) fn new(code: &str, subject: &str, detail: String) -> Self {
        Self {
            code: code.to_owned(),
            subject: subject.to_owned(),
            detail,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.detail)
    }
}
