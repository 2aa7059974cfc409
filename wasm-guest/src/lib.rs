//! SDK for ACR policy modules (WebAssembly, ABI v1, see docs/policy-abi.md): the review and
//! verdict types the host also uses, the verbs [`accept`] / [`reject`] / [`Verdict::warn`] and
//! [`fail`] (an error, not a deny), [`export_policy!`] which exports the ABI and writes the
//! metadata section, address, certificate and settings helpers, and a native stand-in for the
//! host so a policy's `cargo test` runs without WebAssembly.
//!
//! ```
//! use wasm_guest::{Review, Verdict, accept};
//!
//! fn evaluate(review: &Review) -> Verdict {
//!     if review.setting_bool("cert-manager.install", true) {
//!         accept().warn("INSTALLS_CERT_MANAGER", "cert-manager will be installed", None)
//!     } else {
//!         accept()
//!     }
//! }
//!
//! wasm_guest::export_policy! {
//!     metadata: r#"{"name": "example", "version": "1.0.0", "subjects": ["connected-registry"]}"#,
//!     evaluate: evaluate,
//! }
//! # fn main() {}
//! ```

pub mod abi;
pub mod lazy_json;
pub mod metadata;
pub mod net;
pub mod review;
pub mod settings;
pub mod verdict;

#[cfg(not(target_arch = "wasm32"))]
pub use abi::take_logged;
pub use abi::{fail, log};
pub use acr_names::dns_name_matches;
pub use lazy_json::LazyJson;
pub use metadata::{ABI_VERSION, METADATA_SECTION, Metadata, MetadataError};
pub use net::{Cidr, CidrError, ip_in_cidr, san_covers_dns, san_covers_ip};
pub use review::{
    CertificateFacts, CertificateRole, Facts, Operation, PublicKeyFacts, REVIEW_API_VERSION,
    Review, SubjectAltNames, SubjectKind,
};
pub use settings::{no_settings, parse_settings};
pub use verdict::{SettingsValidation, Verdict, Violation, Warning, accept, reject};

/// The JSON library the review's free-form parts (`object`, `settings`) are typed with.
pub use serde_json;

/// Exports a policy through ABI v1 and stores its metadata in the `acr.policy.metadata`
/// custom section.
///
/// - `metadata`: a constant `&str` holding the [`Metadata`] JSON, for example
///   `include_str!("../metadata.json")`;
/// - `evaluate`: a `fn(&Review) -> Verdict`;
/// - `validate_settings` (optional): a `fn(&serde_json::Value) -> Result<(), String>`.
///
/// On `wasm32` this defines the exports `acr_abi_version`, `acr_alloc`, `acr_evaluate` and,
/// when given, `acr_validate_settings`. On other targets it exports nothing; it checks the
/// signatures, and adds a unit test to the policy's own `cargo test` that the metadata parses.
#[macro_export]
macro_rules! export_policy {
    (
        metadata: $metadata:expr,
        evaluate: $evaluate:path
        $(, validate_settings: $validate:path)?
        $(,)?
    ) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            const METADATA_JSON: &str = $metadata;

            #[allow(unsafe_code)]
            #[unsafe(link_section = "acr.policy.metadata")]
            #[used]
            static METADATA_SECTION: [u8; METADATA_JSON.len()] =
                $crate::abi::metadata_section(METADATA_JSON);

            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn acr_abi_version() -> i32 {
                $crate::ABI_VERSION
            }

            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn acr_alloc(len: i32) -> i32 {
                $crate::abi::alloc(len)
            }

            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn acr_evaluate(ptr: i32, len: i32) -> i64 {
                $crate::abi::evaluate(ptr, len, $evaluate)
            }

            $(
                #[allow(unsafe_code)]
                #[unsafe(no_mangle)]
                pub extern "C" fn acr_validate_settings(ptr: i32, len: i32) -> i64 {
                    $crate::abi::validate_settings(ptr, len, $validate)
                }
            )?
        };

        // Natively nothing is exported; this checks the signatures and keeps the functions
        // in use, so a policy builds for its own `cargo test` without dead-code warnings.
        #[cfg(not(target_arch = "wasm32"))]
        const _: (&str, fn(&$crate::Review) -> $crate::Verdict) = ($metadata, $evaluate);
        $(
            #[cfg(not(target_arch = "wasm32"))]
            const _: fn(&$crate::serde_json::Value) -> Result<(), String> = $validate;
        )?

        #[cfg(all(test, not(target_arch = "wasm32")))]
        mod acr_policy_export_checks {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn metadata_section_json_is_valid() {
                if let Err(error) = $crate::Metadata::from_json($metadata) {
                    panic!("the metadata given to export_policy! is not usable: {error}");
                }
            }
        }
    };
}

#[cfg(test)]
mod export_macro_tests {
    use crate::{Review, Verdict, accept};

    fn evaluate(_review: &Review) -> Verdict {
        accept()
    }

    fn validate(settings: &serde_json::Value) -> Result<(), String> {
        if settings.is_object() {
            Ok(())
        } else {
            Err("settings must be an object".to_owned())
        }
    }

    crate::export_policy! {
        metadata: r#"{"name": "macro-check", "version": "0.1.0", "subjects": ["pull-secret"]}"#,
        evaluate: evaluate,
        validate_settings: validate,
    }

    #[test]
    fn validate_is_reachable_natively() {
        assert_eq!(
            validate(&serde_json::json!([])),
            Err("settings must be an object".to_owned())
        );
    }
}
