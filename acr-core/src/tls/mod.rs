//! The certificate toolkit: generate serving certificates (rcgen), read them from any form they
//! come in, describe them, and verify them the way TLS clients will (x509-parser).

mod describe;
mod error;
mod generate;
mod load;
pub(crate) mod pem;
#[cfg(test)]
pub(crate) mod test_support;
mod verify;

pub use describe::{
    CertificateInfo, InspectReport, InspectedCertificate, PublicKeyInfo, SubjectAltNames, describe,
    inspect,
};
pub use error::TlsError;
pub use generate::{
    CertificateAuthority, GenerateOptions, GeneratedBundle, GeneratedCertificate, KeyType,
    generate, write_bundle,
};
pub use load::{
    InputFormat, LoadedCertificate, LoadedCertificates, PrivateKey, load_certificates,
    load_private_key,
};
pub use verify::{ChainGap, Check, Outcome, VerifyReport, VerifyRequest, chain_issued_by, verify};
