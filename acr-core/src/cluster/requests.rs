//! The requests the cluster flows send (get, list, server-side apply, merge patch, delete), each turning
//! a failure into a [`ClusterError`] that names the request and the object.

use super::error::ClusterError;
use super::object_name;
use super::resources::{ResourceType, Scope, resource_type};
use crate::plan::{FIELD_MANAGER, PlannedObject};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
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
        match self.api(resource, namespace).get_opt(name).await {
            Ok(Some(found)) => typed(&request, found).map(Some),
            Ok(None) => Ok(None),
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
                Err(kube::Error::Api(status)) if status.is_not_found() => return Ok(None),
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

    /// Server-side apply of one object under [`FIELD_MANAGER`], taking over conflicting fields;
    /// returns the object as the API server stored it (or would have, in a dry run), without
    /// `metadata.managedFields`.
    pub(crate) async fn apply(
        &self,
        object: &PlannedObject,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let resource = resource_type(
            &object.api_version,
            &object.kind,
            object.namespace.is_some(),
        );
        let mut params = PatchParams::apply(FIELD_MANAGER).force();
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

    /// Deletes one object in the background (dependents are collected by the cluster); `false`
    /// when it was already gone.
    pub(crate) async fn delete(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<bool, ClusterError> {
        let request = format!("DELETE {}", resource.path(namespace, Some(name)));
        match self
            .api(resource, namespace)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(false),
            Err(error) => Err(failed(request, describe(resource, namespace, name), error)),
        }
    }
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
