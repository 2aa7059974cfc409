//! The wasmtime configuration every policy engine compiles under, shared by the host and by
//! `build.rs` (which precompiles the built-in policies with it), and the key that says whether
//! code compiled by one engine runs in another.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use wasmtime::{Config, Engine};

/// The configuration policies are compiled under, for the target triple `target`.
///
/// Naming the target, rather than letting wasmtime detect the CPU it runs on, compiles for the
/// target's baseline CPU features: code precompiled on the build machine then fits every
/// machine of that target, and its [`engine_key`] is the same everywhere. The memory layout
/// (a 4 GiB reservation per linear memory, so no bounds checks) is wasmtime's default; the
/// host adds only the instance pool, which does not change compiled code.
pub fn engine_config(target: &str, fuel_metering: bool) -> wasmtime::Result<Config> {
    let mut config = Config::new();
    config
        .target(target)?
        .epoch_interruption(true)
        .consume_fuel(fuel_metering);
    Ok(config)
}

/// SHA-256 of the engine's precompile compatibility hash: equal keys mean code compiled by one
/// engine deserialises in the other.
pub fn engine_key(engine: &Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// Feeds a `Hash` value into SHA-256, so the key is stable between the build script and the
/// binary (std's hashers promise no stability).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(
            digest[..8]
                .try_into()
                .expect("a SHA-256 digest has 8 bytes"),
        )
    }
}
