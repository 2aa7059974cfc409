//! The built-in policies, compiled from `policies/*` for wasm32 by `build.rs` and embedded,
//! with their code precompiled by `build.rs` for the engine configuration of
//! [`crate::engine_config`].

use crate::cache::ModuleHash;
use crate::set::Builtin;

/// One built-in module's code as `Engine::precompile_module` produced it at build time.
struct PrecompiledModule {
    /// SHA-256 of the module's wasm bytes.
    module_hash: [u8; 32],
    code: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));

/// The precompiled code of the module `module`, when it is a built-in and the engine whose key
/// is `engine_key` compiles exactly as the build's engine did; `None` otherwise (a user
/// policy, fuel metering, another wasmtime or target), and the module is compiled instead.
pub(crate) fn precompiled_code(engine_key: &[u8; 32], module: ModuleHash) -> Option<&'static [u8]> {
    if *engine_key != PRECOMPILED_ENGINE_KEY {
        return None;
    }
    PRECOMPILED_MODULES
        .iter()
        .find(|precompiled| ModuleHash::from_digest(precompiled.module_hash) == module)
        .map(|precompiled| precompiled.code)
}
