//! The namespace, with the Pod Security level that what runs in it needs and no more.
//!
//! The registry pods meet the `restricted` level, or `baseline` when `container.runAsUser=0`
//! runs the image as root. The trust-distribution DaemonSet writes into
//! each node's containerd configuration through a hostPath volume, which only the `privileged`
//! level admits. It lives in the registry's namespace anyway, because it mounts the CA from the
//! registry's TLS Secret (cert-manager writes it there, and `tls.secret` names a Secret there) and
//! a pod cannot mount a Secret of another namespace. So the namespace enforces `restricted` when
//! trust distribution is off (`baseline` for a root registry) and `privileged` when it is on,
//! and always audits against `restricted`, so that any other pod falling short shows in the
//! audit log. Preflight reads the level from the planned Namespace.

use super::{Component, PlanError, PlannedObject, RenderContext, planned};
use k8s_openapi::api::core::v1::Namespace;
use std::collections::BTreeMap;

/// Pod Security admission label: the level pods must meet to be admitted.
pub const POD_SECURITY_ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// Pod Security admission label: the level checked and recorded in the audit log only.
pub const POD_SECURITY_AUDIT_LABEL: &str = "pod-security.kubernetes.io/audit";

const RESTRICTED: &str = "restricted";
const BASELINE: &str = "baseline";
const PRIVILEGED: &str = "privileged";

/// The Pod Security levels from the loosest to the strictest.
pub const POD_SECURITY_LEVELS: [&str; 3] = [PRIVILEGED, BASELINE, RESTRICTED];

pub(super) fn namespace(context: &RenderContext) -> Result<PlannedObject, PlanError> {
    let enforce = if context.settings.trust_distribution_enabled {
        PRIVILEGED
    } else if context.settings.container.runs_as_root() {
        BASELINE
    } else {
        RESTRICTED
    };
    let mut metadata = context.metadata(&context.options.namespace, Component::Namespace);
    metadata.namespace = None;
    metadata.labels.get_or_insert_with(BTreeMap::new).extend([
        (POD_SECURITY_ENFORCE_LABEL.to_owned(), enforce.to_owned()),
        (POD_SECURITY_AUDIT_LABEL.to_owned(), RESTRICTED.to_owned()),
    ]);
    planned(
        &Namespace {
            metadata,
            ..Namespace::default()
        },
        false,
    )
}
