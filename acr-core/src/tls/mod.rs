//! The certificate toolkit: generate serving certificates (rcgen), read them from any form they
//! come in, describe them, and verify them the way TLS clients will (x509-parser).
//!
//! One job a module, imports pointing one way: `x509` parses (once) and reads fields, `pem`
//! and `load` read inputs, `public_key` and `describe` describe, `inspect` describes whole
//! inputs, `chain` builds chains, `supplied` reads a chain settings supply (parsed once),
//! `generate` makes certificates and `verify` checks them.
//! Name matching is the `acr-names` crate, shared with the policies.

mod chain;
mod describe;
mod error;
mod generate;
mod inspect;
mod load;
pub(crate) mod pem;
mod public_key;
mod supplied;
#[cfg(test)]
pub(crate) mod test_support;
mod verify;
mod x509;

pub use chain::ChainGap;
pub(crate) use chain::{Link, names_issuer, path};
pub use describe::{CertificateInfo, SubjectAltNames, describe};
pub use error::TlsError;
pub use generate::{
    CertificateAuthority, GenerateOptions, GeneratedBundle, GeneratedCertificate, KeyType,
    generate, write_bundle,
};
pub use inspect::{InspectReport, InspectedCertificate, inspect};
pub use load::{
    InputFormat, LoadedCertificate, LoadedCertificates, PrivateKey, load_certificates,
    load_private_key,
};
pub use public_key::PublicKeyInfo;
pub use supplied::SuppliedChain;
pub use verify::{Check, Outcome, VerifyReport, VerifyRequest, verify};
pub(crate) use x509::parse_certificate;
