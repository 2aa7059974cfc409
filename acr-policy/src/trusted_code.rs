//! The one place compiled code becomes a module again. `Module::deserialize` is unsafe: it
//! trusts its input to be wasmtime's own output and maps it as executable code, so only code
//! this program compiled itself may reach it, and [`TrustedCode`] says which.

use wasmtime::{Engine, Module};

/// Compiled code, and why it can be trusted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TrustedCode<'a> {
    /// A built-in policy precompiled by `build.rs`, embedded in this binary.
    Builtin(&'static [u8]),
    /// A disk cache entry whose keyed digest (HMAC with this user's secret cache key) was just
    /// checked: `DiskCache::store` wrote it from `Module::serialize`.
    VerifiedCacheEntry(&'a [u8]),
}

/// The module `code` holds; wasmtime itself refuses code of another version or configuration.
#[allow(unsafe_code)]
pub(crate) fn deserialize(engine: &Engine, code: TrustedCode<'_>) -> wasmtime::Result<Module> {
    let (TrustedCode::Builtin(bytes) | TrustedCode::VerifiedCacheEntry(bytes)) = code;
    // SAFETY: `Module::deserialize` requires bytes produced by `Module::serialize` or
    // `Engine::precompile_module` and not modified since. A `Builtin` is the output of
    // `Engine::precompile_module` in `build.rs`, embedded with `include_bytes!`: part of this
    // binary, as trusted as its own code. A `VerifiedCacheEntry` is `Module::serialize` output
    // whose HMAC-SHA256, under a key only this user can read, was checked just before (see
    // the `cache` module's threat model), so nobody without that key made or changed it.
    unsafe { Module::deserialize(engine, bytes) }
}
