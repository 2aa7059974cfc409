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
use serde::Serialize;
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
    pub dry_run: DeleteDryRun,
}

/// Whether delete deletes (kubectl's `--dry-run=none|client|server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteDryRun {
    /// Delete.
    #[default]
    None,
    /// Read what would be deleted; send no delete.
    Client,
    /// Send every delete with `dryRun=All`: the API server checks it and deletes nothing.
    Server,
}

/// One object delete found, named as the API names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedObject {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl DeletedObject {
    fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// `Kind namespace/name`, as messages name objects.
    pub fn display(&self) -> String {
        object_name(&self.kind, self.namespace.as_deref(), &self.name)
    }

    /// `kind.group/name`, as `kubectl delete -o name` prints objects.
    pub fn kubectl_name(&self) -> String {
        crate::plan::kubectl_name(&self.api_version, &self.kind, &self.name)
    }
}

/// What a delete did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReport {
    pub dry_run: DeleteDryRun,
    pub deleted: Vec<DeletedObject>,
    /// Listed, but gone before its delete request (deleted by someone else meanwhile).
    pub already_gone: Vec<DeletedObject>,
    pub kept: Vec<KeptObject>,
}

/// An object delete left in place on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptObject {
    pub object: DeletedObject,
    pub reason: String,
}

pub(crate) async fn run(
    requests: &Requests,
    options: &DeleteOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DeleteReport, ClusterError> {
    let mut report = DeleteReport {
        dry_run: options.dry_run,
        ..DeleteReport::default()
    };
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
            let object = DeletedObject::new(api_version, kind, Some(namespace), &name);
            if kind == "PersistentVolumeClaim" && !options.delete_data {
                keep(&mut report, progress, object, KEEP_DATA_REASON);
                continue;
            }
            if delete(requests, &resource, Some(namespace), &name, options.dry_run).await? {
                progress(Progress::Deleted {
                    object: object.display(),
                    dry_run: options.dry_run,
                });
                report.deleted.push(object);
            } else {
                progress(Progress::AlreadyGone {
                    object: object.display(),
                });
                report.already_gone.push(object);
            }
        }
    }
    if made_by_us(&found.metadata) {
        let object = DeletedObject::new("v1", "Namespace", None, namespace);
        if !options.delete_data {
            keep(&mut report, progress, object, KEEP_NAMESPACE_REASON);
        } else if delete(requests, &namespaces, None, namespace, options.dry_run).await? {
            progress(Progress::Deleted {
                object: object.display(),
                dry_run: options.dry_run,
            });
            report.deleted.push(object);
        }
    }
    Ok(report)
}

/// Deletes one object as `dry_run` says; whether it was there.
async fn delete(
    requests: &Requests,
    resource: &super::resources::ResourceType,
    namespace: Option<&str>,
    name: &str,
    dry_run: DeleteDryRun,
) -> Result<bool, ClusterError> {
    match dry_run {
        DeleteDryRun::Client => Ok(true),
        DeleteDryRun::None => requests.delete(resource, namespace, name, false).await,
        DeleteDryRun::Server => requests.delete(resource, namespace, name, true).await,
    }
}

fn keep(
    report: &mut DeleteReport,
    progress: &mut dyn FnMut(Progress),
    object: DeletedObject,
    reason: &str,
) {
    progress(Progress::Kept {
        object: object.display(),
        reason: reason.to_owned(),
    });
    report.kept.push(KeptObject {
        object,
        reason: reason.to_owned(),
    });
}
