//! Azure specifics: the private-endpoint DNS check of a registry, with the small DNS client it
//! asks through.

pub mod dns;
mod private_endpoint;

pub use private_endpoint::{
    EndpointReport, PRIVATE_LINK_ZONE, PrivateEndpointError, PrivateEndpointReport,
    PrivateEndpointRequest, Problem, ProblemKind, REGISTRY_ZONE, is_private,
    private_endpoint_check, registry_name,
};
