//! Removing what `deploy` made, found by its labels, in reverse apply order. The data volume
//! claim stays unless the data is to go too; so does the namespace, because deleting a
//! namespace deletes everything in it: the claim with the registry's data, and whatever else
//! people put there. Secrets without the managed-by label are never listed, so never deleted;
//! each listed object's labels are checked again here, whatever the server's filtering did.
//! Safe to re-run: what is already gone is reported, not an error.

use super::error::ClusterError;
use super::progress::Progress;
use super::requests::Requests;
use super::resources::known;
use super::{carries_deployed_labels, deployed_selector, made_by_us, object_name};
use crate::plan::CERT_MANAGER_API_VERSION;
use k8s_openapi::api::core::v1::Namespace;
use serde_json::Value;

/// `(apiVersion, kind)` in delete order: workloads first, so nothing restarts against half-removed
/// configuration, and Certificates before Secrets, so cert-manager does not issue them again.
const DELETE_ORDER: [(&str, &str); 8] = [
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    (CERT_MANAGER_API_VERSION, "Certificate"),
    (CERT_MANAGER_API_VERSION, "Issuer"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
];

const KEEP_DATA_REASON: &str =
    "it holds the registry's data; add --delete-data to delete it (the data is lost)";
const KEEP_NAMESPACE_REASON: &str = "deleting a namespace deletes everything in it, the data volume claim included; add --delete-data to delete it";

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOptions {
    pub namespace: String,
    /// Also delete the data volume claim and the namespace.
    pub delete_data: bool,
}

/// What a delete did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    pub deleted: Vec<String>,
    /// Listed, but gone before its delete request (deleted by someone else meanwhile).
    pub already_gone: Vec<String>,
    pub kept: Vec<KeptObject>,
}

/// An object delete left in place on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptObject {
    pub object: String,
    pub reason: String,
}

pub(crate) async fn run(
    requests: &Requests,
    options: &DeleteOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DeleteReport, ClusterError> {
    let mut report = DeleteReport::default();
    let namespaces = known("v1", "Namespace");
    let namespace = options.namespace.as_str();
    let Some(found) = requests
        .get::<Namespace>(&namespaces, None, namespace)
        .await?
    else {
        return Ok(report);
    };
    let selector = deployed_selector();
    for (api_version, kind) in DELETE_ORDER {
        let resource = known(api_version, kind);
        let items: Vec<Value> = requests
            .list(&resource, Some(namespace), Some(&selector))
            .await?
            .unwrap_or_default();
        for name in items
            .iter()
            .filter(|item| carries_deployed_labels(item))
            .filter_map(|item| {
                item.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        {
            let object = object_name(kind, Some(namespace), &name);
            if kind == "PersistentVolumeClaim" && !options.delete_data {
                keep(&mut report, progress, object, KEEP_DATA_REASON);
                continue;
            }
            if requests.delete(&resource, Some(namespace), &name).await? {
                progress(Progress::Deleted {
                    object: object.clone(),
                });
                report.deleted.push(object);
            } else {
                progress(Progress::AlreadyGone {
                    object: object.clone(),
                });
                report.already_gone.push(object);
            }
        }
    }
    if made_by_us(&found.metadata) {
        let object = object_name("Namespace", None, namespace);
        if !options.delete_data {
            keep(&mut report, progress, object, KEEP_NAMESPACE_REASON);
        } else if requests.delete(&namespaces, None, namespace).await? {
            progress(Progress::Deleted {
                object: object.clone(),
            });
            report.deleted.push(object);
        }
    }
    Ok(report)
}

fn keep(
    report: &mut DeleteReport,
    progress: &mut dyn FnMut(Progress),
    object: String,
    reason: &str,
) {
    progress(Progress::Kept {
        object: object.clone(),
        reason: reason.to_owned(),
    });
    report.kept.push(KeptObject {
        object,
        reason: reason.to_owned(),
    });
}
