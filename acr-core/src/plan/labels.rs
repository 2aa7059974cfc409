//! The labels and field manager that mark what `deploy` made, so that `status` and `delete` find
//! exactly those objects and nothing else.

use std::collections::BTreeMap;

/// The server-side apply field manager of every object in a plan.
pub const FIELD_MANAGER: &str = "kubectl-acr";

/// Label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] on every planned object.
pub const MANAGED_BY: &str = "kubectl-acr";
/// Label naming the application an object belongs to.
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
/// Value of [`PART_OF_LABEL`] on every planned object.
pub const PART_OF: &str = "connected-registry";
/// Label holding the connected registry's name (from the connection string).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// Label holding the [`Component`] an object is part of.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Label naming the workload on pods and in selectors.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";

/// Node label that opts a node into trust distribution, as in the Arc extension.
pub const TRUST_NODE_LABEL: &str = "containerd-configured-by";
/// Value of [`TRUST_NODE_LABEL`].
pub const TRUST_NODE_LABEL_VALUE: &str = "connected-registry";

/// Which part of the deployment an object belongs to; the value of [`COMPONENT_LABEL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The namespace itself.
    Namespace,
    /// The registry workload: service account, Deployment, Service.
    Registry,
    /// The connection string Secret.
    Credentials,
    /// Certificates, issuers and TLS Secrets.
    Tls,
    /// The data volume claim.
    Storage,
    /// The trust-distribution DaemonSet.
    Trust,
}

impl Component {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Namespace => "namespace",
            Component::Registry => "registry",
            Component::Credentials => "credentials",
            Component::Tls => "tls",
            Component::Storage => "storage",
            Component::Trust => "trust",
        }
    }
}

/// The label selector matching every object `deploy` made for one connected registry, in the
/// `key=value,key=value` form of the Kubernetes list API.
pub fn label_selector(instance: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY},{PART_OF_LABEL}={PART_OF},{INSTANCE_LABEL}={instance}")
}

/// The labels of one planned object.
pub(super) fn object_labels(instance: &str, component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
        (PART_OF_LABEL.to_owned(), PART_OF.to_owned()),
        (INSTANCE_LABEL.to_owned(), instance.to_owned()),
        (COMPONENT_LABEL.to_owned(), component.as_str().to_owned()),
    ])
}

/// The selector of a workload's pods: stable across upgrades, since selectors are immutable.
pub(super) fn pod_selector(instance: &str, workload: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME_LABEL.to_owned(), workload.to_owned()),
        (INSTANCE_LABEL.to_owned(), instance.to_owned()),
    ])
}

/// The labels of a workload's pods: the object labels plus the selector.
pub(super) fn pod_labels(
    instance: &str,
    component: Component,
    workload: &str,
) -> BTreeMap<String, String> {
    let mut labels = object_labels(instance, component);
    labels.extend(pod_selector(instance, workload));
    labels
}
