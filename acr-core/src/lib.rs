//! Core logic shared by `kubectl acr` and `az acr-ext`: the Arc extension settings model,
//! certificate tooling, deployment plans (for one cluster or a fleet), policy checks and safe file
//! output. No command-line
//! parsing, no printing.

pub mod azure;
pub mod bundle;
pub mod cluster;
pub mod custom_domain;
pub mod fleet;
pub mod fsio;
pub mod operations;
pub mod plan;
pub mod policy;
pub mod pull_secret;
pub mod registry_check;
pub mod secret;
pub mod settings;
pub mod tls;
pub mod untrusted;
