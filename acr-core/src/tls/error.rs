//! The one error type of the certificate toolkit, each variant naming the input, block or
//! certificate it is about.

use std::path::PathBuf;

use crate::fsio::WriteError;

/// Everything that can go wrong while generating, loading or describing certificates.
///
/// Verification problems are not errors: [`super::verify`] reports them as failed checks.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("unknown key type {given:?}; valid key types: {valid}")]
    UnknownKeyType { given: String, valid: String },

    #[error("a certificate needs at least one IP address or DNS name to serve")]
    NoSubjectAltNames,

    #[error("{name:?} is not a valid DNS name: {reason}")]
    InvalidDnsName {
        name: String,
        reason: acr_names::NameError,
    },

    #[error("{what} validity must be at least 1 day")]
    ZeroValidity { what: &'static str },

    #[error(
        "the serving certificate would be valid for {leaf_days} days, longer than the CA it is \
         signed with ({ca_days} days)"
    )]
    LeafOutlivesCa { leaf_days: u32, ca_days: u32 },

    #[error(
        "the serving certificate would be valid until {leaf_not_after}, after the CA \
         {ca_subject} expires ({ca_not_after}); ask for fewer days"
    )]
    LeafOutlivesGivenCa {
        ca_subject: String,
        leaf_not_after: String,
        ca_not_after: String,
    },

    #[error("cannot generate the {what}")]
    Generation {
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },

    #[error("the system random number generator failed")]
    Randomness,

    #[error("the CA certificate {subject} cannot sign certificates: {reason}")]
    NotACertificateAuthority { subject: String, reason: String },

    #[error("the CA private key does not belong to the CA certificate {subject}")]
    CaKeyMismatch { subject: String },

    #[error("the CA certificate {subject} is not valid at {at}: {reason}")]
    CaNotValid {
        subject: String,
        at: String,
        reason: String,
    },

    #[error("input is empty")]
    EmptyInput,

    #[error(
        "no certificate found in input (looked for PEM, DER, base64, Kubernetes Secret, \
         protected settings)"
    )]
    NoCertificate,

    #[error("{origin} has no CERTIFICATE block (found: {found})")]
    NoCertificateInPem { origin: String, found: String },

    #[error("PEM block {index} ({label}) is malformed: {reason}")]
    MalformedPemBlock {
        index: usize,
        label: String,
        reason: String,
    },

    #[error("{origin} is not a valid certificate: {reason}")]
    InvalidCertificate { origin: String, reason: String },

    #[error("{origin} is not valid base64: {reason}")]
    InvalidBase64 { origin: String, reason: String },

    #[error("{origin} decodes to neither PEM nor DER")]
    UndecodablePayload { origin: String },

    #[error("{origin} is base64-encoded twice; encode the PEM once")]
    EncodedTwice { origin: String },

    #[error("input looks like {format} but does not parse: {reason}")]
    InvalidDocument {
        format: &'static str,
        reason: String,
    },

    #[error("the Kubernetes Secret has no tls.crt or ca.crt in data or stringData (keys: {keys})")]
    SecretWithoutCertificates { keys: String },

    #[error("{origin} in the Kubernetes Secret is not a string")]
    SecretValueNotString { origin: String },

    #[error(
        "the protected settings name the Secret {secret:?} (tls.secret) instead of holding \
         certificates; inspect that Secret"
    )]
    ProtectedSettingsNameSecret { secret: String },

    #[error(
        "the document is neither a Kubernetes Secret nor protected settings with tls.crt or \
         tls.cacrt (keys: {keys})"
    )]
    UnrecognisedDocument { keys: String },

    #[error("no private key found (found: {found})")]
    NoPrivateKey { found: String },

    #[error(
        "the private key ({label}) is encrypted; decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`"
    )]
    EncryptedPrivateKey { label: String },

    #[error("the private key ({label}) is not supported: {reason}")]
    UnsupportedPrivateKey { label: String, reason: String },

    #[error("the input holds {count} private keys; give exactly one")]
    SeveralPrivateKeys { count: usize },

    #[error("cannot create directory {path}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Write(#[from] WriteError),
}
