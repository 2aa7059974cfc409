//! Integration tests of the policy engine against WAT fixtures (tests/fixtures): every sandbox
//! limit and ABI check, the disk cache, policy sets, the documented minimal policy, and the
//! built-in policies with their fixtures.

mod abi_doc;
mod builtin_policies;
mod common;
mod disk_cache;
mod hostile_modules;
mod policy_sets;
