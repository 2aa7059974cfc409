//! The built-in policies, compiled from `policies/*` for wasm32 by `build.rs` and embedded,
//! with their code precompiled by `build.rs` for the engine configuration of
//! [`crate::engine_config`].

use crate::cache::ModuleHash;

/// A policy module compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub wasm: &'static [u8],
}

/// One built-in module's code as `Engine::precompile_module` produced it at build time.
struct PrecompiledModule {
    /// SHA-256 of the module's wasm bytes.
    module_hash: [u8; 32],
    code: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));

/// The hash of `bytes` when they are a built-in policy's module, known from the build:
/// comparing the bytes costs a fraction of hashing them, on every run of every command.
pub(crate) fn builtin_hash(bytes: &[u8]) -> Option<ModuleHash> {
    BUILTIN_POLICIES
        .iter()
        .zip(BUILTIN_HASHES)
        .find(|(builtin, _)| builtin.wasm == bytes)
        .map(|(_, hash)| ModuleHash::from_digest(*hash))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_hashes_are_the_modules_sha256() {
        assert_eq!(BUILTIN_HASHES.len(), BUILTIN_POLICIES.len());
        for builtin in BUILTIN_POLICIES {
            assert_eq!(
                builtin_hash(builtin.wasm),
                Some(ModuleHash::of(builtin.wasm)),
                "{}",
                builtin.name
            );
            let mut changed = builtin.wasm.to_vec();
            changed.push(0);
            assert_eq!(builtin_hash(&changed), None);
        }
    }
}
