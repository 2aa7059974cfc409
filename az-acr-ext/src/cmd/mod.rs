//! The commands only `az acr-ext` offers: custom-domain prepare, connected-registry
//! protected-settings and private-endpoint check.

pub mod custom_domain;
pub mod private_endpoint;
pub mod protected_settings;
