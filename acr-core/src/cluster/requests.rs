//! The requests the cluster flows send (get, list, server-side apply, merge patch, delete), each turning
//! a failure into a [`ClusterError`] that names the request and the object.

use super::error::{ClusterError, FieldConflict};
use super::object_name;
use super::resources::{ResourceType, Scope, resource_type};
use crate::plan::{FIELD_MANAGER, PlannedObject};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Items asked for per list page.
const LIST_PAGE_SIZE: u32 = 500;

/// Sends requests with one client.
#[derive(Clone)]
pub(crate) struct Requests {
    client: kube::Client,
}

impl Requests {
    pub(crate) fn new(client: kube::Client) -> Self {
        Self { client }
    }

    fn api(&self, resource: &ResourceType, namespace: Option<&str>) -> Api<DynamicObject> {
        match (resource.scope, namespace) {
            (Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(self.client.clone(), namespace, &resource.api_resource)
            }
            _ => Api::all_with(self.client.clone(), &resource.api_resource),
        }
    }

    /// One object, `None` when it does not exist.
    pub(crate) async fn get<K: DeserializeOwned>(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<K>, ClusterError> {
        let request = format!("GET {}", resource.path(namespace, Some(name)));
        let object = describe(resource, namespace, name);
        match self.api(resource, namespace).get(name).await {
            Ok(found) => typed(&request, found).map(Some),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(failed(request, object, error)),
        }
    }

    /// Every object of a resource in `namespace` (every namespace for `None`) matching the
    /// label selector; `None` when the API server does not serve the resource (a custom
    /// resource whose definition is not installed).
    pub(crate) async fn list<K: DeserializeOwned>(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Option<Vec<K>>, ClusterError> {
        let mut request = format!("GET {}", resource.path(namespace, None));
        if let Some(selector) = label_selector {
            request.push_str(&format!("?labelSelector={selector}"));
        }
        let collection = format!(
            "{} list{}",
            resource.api_resource.kind,
            namespace.map(|ns| format!(" in {ns}")).unwrap_or_default()
        );
        let api = self.api(resource, namespace);
        let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
        if let Some(selector) = label_selector {
            params = params.labels(selector);
        }
        let mut items = Vec::new();
        loop {
            let page = match api.list(&params).await {
                Ok(page) => page,
                Err(error) if is_not_found(&error) => return Ok(None),
                Err(error) => return Err(failed(request, collection, error)),
            };
            for item in page.items {
                items.push(typed(&request, item)?);
            }
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(Some(items)),
            }
        }
    }

    /// Server-side apply of one object under [`FIELD_MANAGER`]; fields another manager owns
    /// are a [`ClusterError::Conflict`] unless `force_conflicts` takes them over. Returns the
    /// object as the API server stored it (or would have, in a dry run), without
    /// `metadata.managedFields`.
    pub(crate) async fn apply(
        &self,
        object: &PlannedObject,
        dry_run: bool,
        force_conflicts: bool,
    ) -> Result<Value, ClusterError> {
        let resource = resource_type(
            &object.api_version,
            &object.kind,
            object.namespace.is_some(),
        );
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = force_conflicts;
        params.dry_run = dry_run;
        self.patch(
            &resource,
            object.namespace.as_deref(),
            &object.name,
            &params,
            &Patch::Apply(&object.manifest),
        )
        .await
    }

    /// A JSON merge patch (RFC 7386) of one object under [`FIELD_MANAGER`]; returns the object
    /// as the API server stored it (or would have, in a dry run), without
    /// `metadata.managedFields`.
    pub(crate) async fn merge_patch(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        patch: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            dry_run,
            ..PatchParams::default()
        };
        self.patch(resource, namespace, name, &params, &Patch::Merge(patch))
            .await
    }

    async fn patch(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        params: &PatchParams,
        patch: &Patch<&Value>,
    ) -> Result<Value, ClusterError> {
        let request = format!("PATCH {}", resource.path(namespace, Some(name)));
        let patched = self
            .api(resource, namespace)
            .patch(name, params, patch)
            .await
            .map_err(|error| failed(request.clone(), describe(resource, namespace, name), error))?;
        let mut value: Value = typed(&request, patched)?;
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("managedFields");
        }
        Ok(value)
    }

    /// The last `lines` lines of the log of a container's previous run (the one that crashed),
    /// or why the API server would not give them (no kubelet answering, logs rotated away).
    pub(crate) async fn previous_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: i64,
    ) -> Result<String, String> {
        let params = LogParams {
            container: Some(container.to_owned()),
            previous: true,
            tail_lines: Some(lines),
            ..LogParams::default()
        };
        Api::<Pod>::namespaced(self.client.clone(), namespace)
            .logs(pod, &params)
            .await
            .map_err(|error| match error {
                kube::Error::Api(status) => format!("HTTP {}: {}", status.code, status.message),
                other => other.to_string(),
            })
    }

    /// Deletes one object in the background (dependents are collected by the cluster); `false`
    /// when it was already gone.
    /// Deletes one object (with `dryRun=All` when `dry_run`); whether it was there.
    pub(crate) async fn delete(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        dry_run: bool,
    ) -> Result<bool, ClusterError> {
        let request = format!("DELETE {}", resource.path(namespace, Some(name)));
        let mut params = DeleteParams::background();
        if dry_run {
            params = params.dry_run();
        }
        match self.api(resource, namespace).delete(name, &params).await {
            Ok(_) => Ok(true),
            Err(error) if is_not_found(&error) => Ok(false),
            Err(error) => Err(failed(request, describe(resource, namespace, name), error)),
        }
    }
}

/// Whether the API server answered 404: the object does not exist, or its resource is not
/// served at all (a custom resource whose definition is not installed). A real API server
/// answers the latter with a plain-text `404 page not found`, not a `Status` whose reason is
/// `NotFound`, so the HTTP code decides, not kube's `is_not_found`.
fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

fn describe(resource: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    let namespace = match resource.scope {
        Scope::Namespaced => namespace,
        Scope::Cluster => None,
    };
    object_name(&resource.api_resource.kind, namespace, name)
}

/// The dynamic object as a typed one (or as JSON, for `Value`).
fn typed<K: DeserializeOwned>(request: &str, object: DynamicObject) -> Result<K, ClusterError> {
    let answer = |source| ClusterError::Answer {
        request: request.to_owned(),
        kind: std::any::type_name::<K>()
            .rsplit("::")
            .next()
            .unwrap_or("object"),
        source,
    };
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .map_err(answer)
}

fn failed(request: String, object: String, error: kube::Error) -> ClusterError {
    match error {
        kube::Error::Api(status) if status.code == 409 && !field_conflicts(&status).is_empty() => {
            ClusterError::Conflict {
                request,
                object,
                conflicts: field_conflicts(&status),
            }
        }
        kube::Error::Api(status) => ClusterError::Api {
            request,
            object,
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        },
        source => ClusterError::Request {
            request,
            object,
            source,
        },
    }
}

/// The fields a server-side apply found owned by other managers, from the answer's causes
/// (`reason: FieldManagerConflict`, `message: conflict with "MANAGER" using apps/v1`,
/// `field: .spec.replicas`).
fn field_conflicts(status: &kube::core::Status) -> Vec<FieldConflict> {
    status
        .details
        .iter()
        .flat_map(|details| &details.causes)
        .filter(|cause| cause.reason == "FieldManagerConflict")
        .map(|cause| FieldConflict {
            field: cause.field.clone(),
            manager: cause
                .message
                .split('"')
                .nth(1)
                .unwrap_or(&cause.message)
                .to_owned(),
        })
        .collect()
}
