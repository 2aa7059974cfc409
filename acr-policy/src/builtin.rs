//! The built-in policies, compiled from `policies/*` for wasm32 by `build.rs` and embedded.

use crate::set::Builtin;

include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));
