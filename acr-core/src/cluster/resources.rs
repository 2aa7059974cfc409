//! Where each kind of object lives in the API (its plural resource name and scope), without
//! discovery requests.
//!
//! Every kind the plan and cert-manager's release manifests contain is in [`KNOWN_RESOURCES`].
//! A kind outside it (a later cert-manager release adding one) gets kube's plural heuristic
//! (`Kind` lowercased plus `s`/`es`/`ies`) and the scope its manifest implies: namespaced when
//! it names a namespace. Discovery would cost two or more requests per API group on every
//! deploy and would need the group to be served already, which a CRD applied in the same run
//! is not; the table is exact for everything applied today, and the heuristic holds for the
//! regular plurals Kubernetes APIs use.

use kube::api::{ApiResource, GroupVersionKind};

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Namespaced,
    Cluster,
}

/// An API resource and its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceType {
    pub api_resource: ApiResource,
    pub scope: Scope,
}

/// `(apiVersion, kind, plural, scope)` of every kind applied, read or deleted.
const KNOWN_RESOURCES: [(&str, &str, &str, Scope); 20] = [
    ("v1", "Namespace", "namespaces", Scope::Cluster),
    ("v1", "Node", "nodes", Scope::Cluster),
    ("v1", "ServiceAccount", "serviceaccounts", Scope::Namespaced),
    ("v1", "Secret", "secrets", Scope::Namespaced),
    ("v1", "ConfigMap", "configmaps", Scope::Namespaced),
    ("v1", "Service", "services", Scope::Namespaced),
    (
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        Scope::Namespaced,
    ),
    ("v1", "Pod", "pods", Scope::Namespaced),
    ("apps/v1", "Deployment", "deployments", Scope::Namespaced),
    (
        "storage.k8s.io/v1",
        "StorageClass",
        "storageclasses",
        Scope::Cluster,
    ),
    ("apps/v1", "DaemonSet", "daemonsets", Scope::Namespaced),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        Scope::Cluster,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        Scope::Cluster,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        Scope::Cluster,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "Role",
        "roles",
        Scope::Namespaced,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        Scope::Namespaced,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        Scope::Cluster,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        Scope::Cluster,
    ),
    ("cert-manager.io/v1", "Issuer", "issuers", Scope::Namespaced),
    (
        "cert-manager.io/v1",
        "Certificate",
        "certificates",
        Scope::Namespaced,
    ),
];

/// The resource of `kind` in `api_version`; for kinds outside the table, `names_namespace`
/// (whether the manifest has `metadata.namespace`) decides the scope.
pub(crate) fn resource_type(api_version: &str, kind: &str, names_namespace: bool) -> ResourceType {
    let gvk = group_version_kind(api_version, kind);
    match KNOWN_RESOURCES
        .iter()
        .find(|(known_version, known_kind, _, _)| {
            *known_version == api_version && *known_kind == kind
        }) {
        Some((_, _, plural, scope)) => ResourceType {
            api_resource: ApiResource::from_gvk_with_plural(&gvk, plural),
            scope: *scope,
        },
        None => ResourceType {
            api_resource: ApiResource::from_gvk(&gvk),
            scope: if names_namespace {
                Scope::Namespaced
            } else {
                Scope::Cluster
            },
        },
    }
}

/// The resource of a kind in [`KNOWN_RESOURCES`].
pub(crate) fn known(api_version: &str, kind: &str) -> ResourceType {
    resource_type(api_version, kind, true)
}

fn group_version_kind(api_version: &str, kind: &str) -> GroupVersionKind {
    match api_version.split_once('/') {
        Some((group, version)) => GroupVersionKind::gvk(group, version, kind),
        None => GroupVersionKind::gvk("", api_version, kind),
    }
}

impl ResourceType {
    /// The URL path of one object, or of the collection when `name` is `None`; a namespace is
    /// used only for namespaced resources, and `None` there means every namespace.
    pub(crate) fn path(&self, namespace: Option<&str>, name: Option<&str>) -> String {
        let resource = &self.api_resource;
        let mut path = if resource.group.is_empty() {
            format!("/api/{}", resource.version)
        } else {
            format!("/apis/{}/{}", resource.group, resource.version)
        };
        if let (Scope::Namespaced, Some(namespace)) = (self.scope, namespace) {
            path.push_str(&format!("/namespaces/{namespace}"));
        }
        path.push('/');
        path.push_str(&resource.plural);
        if let Some(name) = name {
            path.push('/');
            path.push_str(name);
        }
        path
    }
}
