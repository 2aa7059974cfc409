//! Why a policy could not be loaded or did not produce a verdict; each message names the
//! policy and, for sandbox limits, the limit.

use crate::sources::SourceError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use wasm_guest::MetadataError;

/// A policy that failed: it could not be loaded, or it trapped, hit a limit or answered
/// nonsense. This is an *error* outcome, reported apart from a deny.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy `{policy}` {kind}{}", during.map(|call| format!(" during {call}")).unwrap_or_default())]
pub struct PolicyError {
    /// The policy's metadata name once known, otherwise where it came from.
    pub policy: String,
    /// The ABI call that was running, when the failure happened inside the module.
    pub during: Option<AbiCall>,
    pub kind: PolicyErrorKind,
}

impl PolicyError {
    pub(crate) fn new(policy: &str, kind: PolicyErrorKind) -> Self {
        Self {
            policy: policy.to_owned(),
            during: None,
            kind,
        }
    }

    pub(crate) fn during(policy: &str, call: AbiCall, kind: PolicyErrorKind) -> Self {
        Self {
            policy: policy.to_owned(),
            during: Some(call),
            kind,
        }
    }

    /// The sandbox limit the policy hit, if that is what happened.
    pub fn limit(&self) -> Option<Limit> {
        match &self.kind {
            PolicyErrorKind::Deadline { .. } => Some(Limit::Deadline),
            PolicyErrorKind::Memory { .. } => Some(Limit::Memory),
            PolicyErrorKind::Stack => Some(Limit::Stack),
            PolicyErrorKind::Fuel { .. } => Some(Limit::Fuel),
            PolicyErrorKind::InputTooLarge { .. } => Some(Limit::InputSize),
            PolicyErrorKind::OutputTooLarge { .. } => Some(Limit::OutputSize),
            PolicyErrorKind::LogMessages { .. } => Some(Limit::LogMessages),
            PolicyErrorKind::LogBytes { .. } => Some(Limit::LogBytes),
            PolicyErrorKind::ModuleTooLarge { .. } => Some(Limit::ModuleSize),
            PolicyErrorKind::MetadataTooLarge { .. } => Some(Limit::MetadataSize),
            _ => None,
        }
    }
}

/// The ABI v1 entry points, as named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiCall {
    /// Instantiation, which runs the module's start function.
    Instantiation,
    AbiVersion,
    Alloc,
    Evaluate,
    ValidateSettings,
}

impl fmt::Display for AbiCall {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Instantiation => "instantiation (start function)",
            Self::AbiVersion => "acr_abi_version",
            Self::Alloc => "acr_alloc",
            Self::Evaluate => "acr_evaluate",
            Self::ValidateSettings => "acr_validate_settings",
        })
    }
}

/// The sandbox limits, as named in messages (see [`crate::Limits`] and [`crate::HostConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Deadline,
    Memory,
    Stack,
    Fuel,
    InputSize,
    OutputSize,
    LogMessages,
    LogBytes,
    ModuleSize,
    MetadataSize,
}

impl fmt::Display for Limit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Deadline => "deadline",
            Self::Memory => "memory",
            Self::Stack => "stack",
            Self::Fuel => "fuel",
            Self::InputSize => "input size",
            Self::OutputSize => "output size",
            Self::LogMessages => "log messages",
            Self::LogBytes => "log bytes",
            Self::ModuleSize => "module size",
            Self::MetadataSize => "metadata size",
        })
    }
}

/// What went wrong; the text follows "policy `NAME` ".
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyErrorKind {
    /// The module could not be obtained from its source.
    #[error(transparent)]
    Source(SourceError),
    #[error("is not a WebAssembly module: {reason}")]
    Malformed { reason: String },
    #[error("has no `acr.policy.metadata` custom section")]
    MissingMetadata,
    #[error("has more than one `acr.policy.metadata` custom section")]
    DuplicateMetadata,
    #[error("has unusable metadata: {0}")]
    InvalidMetadata(MetadataError),
    #[error(
        "imports `{module}.{name}`, but a policy may import only `acr.log`{}",
        if module.starts_with("wasi") { " (WASI is not available to policies)" } else { "" }
    )]
    ForbiddenImport { module: String, name: String },
    #[error("imports `acr.log` as {found}, but ABI v1 defines it as (func (param i32 i32))")]
    LogImportSignature { found: String },
    #[error("does not export `{name}`, which ABI v1 requires")]
    MissingExport { name: &'static str },
    #[error("exports `{name}` as {found}, but ABI v1 needs {expected}")]
    ExportSignature {
        name: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("implements policy ABI version {found}, but this host implements version 1")]
    AbiVersion { found: i32 },
    #[error(
        "was not loaded: the module is {len} bytes, more than the module size limit of {limit} \
         bytes (limit `module size`)"
    )]
    ModuleTooLarge { len: usize, limit: usize },
    #[error(
        "was not loaded: its `acr.policy.metadata` section is {len} bytes, more than the \
         metadata size limit of {limit} bytes (limit `metadata size`)"
    )]
    MetadataTooLarge { len: usize, limit: usize },
    #[error("does not compile: {message}")]
    Compile { message: String },
    #[error(
        "was given a fuel limit, but the policy host was created without fuel metering \
         (HostConfig::fuel_metering)"
    )]
    FuelMeteringOff,

    #[error(
        "exceeded the wall-time deadline of {} ms (limit `deadline`)",
        deadline.as_millis()
    )]
    Deadline { deadline: Duration },
    #[error(
        "exceeded the memory limit of {limit} bytes by asking for {requested} bytes \
         (limit `memory`)"
    )]
    Memory { limit: usize, requested: usize },
    #[error("exhausted the WebAssembly call stack, for example by deep recursion (limit `stack`)")]
    Stack,
    #[error("used up its {fuel} units of fuel (limit `fuel`)")]
    Fuel { fuel: u64 },
    #[error(
        "was not run: the input is {len} bytes, more than the input limit of {limit} bytes \
         (limit `input size`)"
    )]
    InputTooLarge { len: usize, limit: usize },
    #[error(
        "answered {len} bytes, more than the output limit of {limit} bytes (limit `output size`)"
    )]
    OutputTooLarge { len: usize, limit: usize },
    #[error("logged more than {limit} messages in one evaluation (limit `log messages`)")]
    LogMessages { limit: usize },
    #[error("logged more than {limit} bytes in one evaluation (limit `log bytes`)")]
    LogBytes { limit: usize },
    #[error(
        "pointed at {len} bytes at address {ptr}, outside its {memory_size}-byte linear memory"
    )]
    OutOfBounds {
        ptr: u32,
        len: u32,
        memory_size: usize,
    },
    #[error("answered bytes that are not UTF-8: {error}")]
    OutputNotUtf8 { error: std::str::Utf8Error },
    #[error("answered text that is not ABI v1 {expected} JSON: {error}")]
    OutputNotJson {
        expected: &'static str,
        error: Arc<serde_json::Error>,
    },
    #[error(
        "answered allowed={allowed} with {violations} violation(s); a verdict is denied \
         exactly when it has violations"
    )]
    InconsistentVerdict { allowed: bool, violations: usize },
    #[error("refused its settings: {message}")]
    SettingsRefused { message: String },
    #[error("trapped: {trap}{}", last_log.as_ref().map(|log| format!(" (its last log line: {log})")).unwrap_or_default())]
    Trap {
        trap: String,
        last_log: Option<String>,
    },
    #[error("failed in the policy host: {message}")]
    Host { message: String },
}

/// The policy host itself could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot create the WebAssembly engine: {message}")]
    Engine { message: String },
    #[error("cannot start the epoch ticker thread that enforces policy deadlines")]
    Ticker(#[source] std::io::Error),
}
