//! The kubectl-only commands: rendering, and with a cluster deploying, showing, verifying and
//! deleting the connected registry (on one cluster or a fleet), creating pull secrets, and
//! air-gap bundles.

pub mod bundle;
pub mod delete;
pub mod deploy;
pub mod flags;
mod fleet;
mod print;
pub mod pull_secret;
pub mod render;
pub mod status;
pub mod verify;
