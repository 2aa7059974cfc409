//! Preparing an ACR custom domain: check the certificate for the registry and data domains,
//! write one PEM per domain (key, leaf, chain) and describe the DNS, Key Vault and identity
//! steps that remain.

mod certificate;
mod chain;
mod domains;
mod material;
mod plan;
mod problem;
mod review;
mod secret_id;

pub use certificate::{CertificateSource, PreparedCertificate, prepare_certificate};
pub use domains::{CustomDomains, Domain, DomainRole};
pub use material::InputFile;
pub(crate) use plan::write_domain_files;
pub use plan::{DomainFile, IdentityOptions, Plan, build_plan};
pub use problem::Problem;
pub use review::custom_domain_review;
pub use secret_id::{KeyVaultSecretId, Rotation};

use std::fmt::Write as _;

/// Why a custom domain cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum CustomDomainError {
    #[error("{what} `{value}` is not valid: {reason}")]
    InvalidInput {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot read {file}")]
    Read {
        file: String,
        #[source]
        source: crate::tls::TlsError,
    },
    #[error("{}", refusal_text(.problems))]
    Refused { problems: Vec<Problem> },
    #[error("cannot generate the self-signed certificate")]
    Generate(#[source] crate::tls::TlsError),
    #[error("cannot describe the certificate")]
    Describe(#[source] crate::tls::TlsError),
    #[error("cannot describe the certificate for policies")]
    Facts(#[from] serde_json::Error),
    #[error("cannot write the PEM files")]
    Write(#[from] crate::fsio::WriteError),
    #[error("cannot create directory {path}")]
    CreateDirectory {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn refusal_text(problems: &[Problem]) -> String {
    let mut text = format!(
        "the certificate is refused ({} problem{}); nothing was written:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        let _ = write!(text, "\n  - {problem}");
    }
    text
}
