//! Sandboxed WebAssembly policy engine implementing ABI v1 (docs/policy-abi.md) on wasmtime:
//! loading with checks before and after compiling, per-evaluation limits (deadline, memory,
//! stack, input and output size, logging, optional fuel), a fresh store per evaluation from a
//! shared pre-linked instance, compiled modules cached in memory and in a private directory,
//! and policy sets that keep a policy's error apart from its deny.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use acr_policy::{HostConfig, PolicyHost, PolicyOutcome};
//!
//! let host = PolicyHost::new(HostConfig::default())?;
//! let policy = host.load("org-policy.wasm", &std::fs::read("org-policy.wasm")?)?;
//! let review = serde_json::from_str(&std::fs::read_to_string("review.json")?)?;
//! match policy.evaluate(&review).outcome {
//!     PolicyOutcome::Allowed { .. } => {}
//!     PolicyOutcome::Denied { violations, .. } => eprintln!("denied: {violations:?}"),
//!     PolicyOutcome::Error(error) => eprintln!("{error}"),
//! }
//! # Ok(())
//! # }
//! ```

mod builtin;
mod cache;
mod enforcement;
mod engine_config;
mod epoch;
mod error;
mod host;
mod inspect;
mod limits;
mod policy;
mod report;
mod runtime;
mod sandbox;
pub mod scaffold;
mod set;
mod slots;
pub mod sources;
mod trusted_code;

pub use builtin::{BUILTIN_POLICIES, Builtin};
pub use cache::CacheProblem;
pub use enforcement::{Enforcement, OnError};
pub use epoch::EPOCH_TICK;
pub use error::{AbiCall, HostError, Limit, PolicyError, PolicyErrorKind};
pub use host::{HostConfig, PolicyHost};
pub use inspect::{LOG_IMPORT, ModuleInterface, module_interface, read_metadata_and_check_imports};
pub use limits::{Limits, MAX_METADATA_BYTES, MAX_MODULE_BYTES};
pub use policy::{Evaluation, LoadedPolicy, ModuleOrigin, PolicyOutcome};
pub use report::{Decision, Effect, PolicyReport, ResultKind, SetReport};
pub use set::{ModuleSource, PolicySet, PolicySetEntry, PolicySetError, PreparedSet};
pub use wasm_guest::{Metadata, Review, Violation, Warning};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_and_sync<T: Send + Sync>() {}

    #[test]
    fn hosts_and_policies_can_be_shared_between_threads() {
        assert_send_and_sync::<PolicyHost>();
        assert_send_and_sync::<LoadedPolicy>();
        assert_send_and_sync::<PreparedSet>();
        assert_send_and_sync::<PolicyError>();
    }
}
