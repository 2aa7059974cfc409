//! Per-evaluation sandbox limits and their defaults, and the size limits a module is checked
//! against before anything else reads or compiles it.

use std::time::Duration;

/// The largest module the host reads or compiles (16 MiB, as the download cap of remote
/// sources): compiling is not interruptible, so its input is bounded instead. The built-ins
/// are about 0.25 MB each.
pub const MAX_MODULE_BYTES: usize = 16 << 20;

/// The largest `acr.policy.metadata` section the host parses (64 KiB); the built-ins' are
/// under 2 KiB.
pub const MAX_METADATA_BYTES: usize = 64 << 10;

/// What one evaluation may use. Every field has a default ([`Limits::default`]); hitting any
/// of them ends the evaluation with an error naming the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for instantiation plus the call, enforced by epoch interruption.
    /// Default 500 ms.
    pub deadline: Duration,
    /// Linear memory, including the module's initial memory. Default 32 MiB.
    pub memory_bytes: usize,
    /// Size of the review (or settings) JSON handed to the module. Default 1 MiB.
    pub max_input_bytes: usize,
    /// Size of the verdict JSON the module answers. Default 256 KiB.
    pub max_output_bytes: usize,
    /// Number of `acr.log` calls. Default 100.
    pub max_log_messages: usize,
    /// Total bytes passed to `acr.log`. Default 16 KiB.
    pub max_log_bytes: usize,
    /// WebAssembly fuel (roughly, instructions) for deterministic limits; `None` for no fuel
    /// limit. Needs [`crate::HostConfig::fuel_metering`]. Default `None`.
    pub fuel: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(500),
            memory_bytes: 32 << 20,
            max_input_bytes: 1 << 20,
            max_output_bytes: 256 << 10,
            max_log_messages: 100,
            max_log_bytes: 16 << 10,
            fuel: None,
        }
    }
}
