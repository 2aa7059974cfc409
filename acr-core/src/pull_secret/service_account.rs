//! Adding the pull secret to a service account's `imagePullSecrets` without losing or repeating
//! an entry.
//!
//! Why a read-modify-write with a JSON merge patch, not server-side apply or a strategic merge
//! patch: `ServiceAccount.imagePullSecrets` is an *atomic* list (`+listType=atomic`, and unlike
//! `PodSpec.imagePullSecrets` it has no `patchMergeKey`). Server-side apply under our field
//! manager would make us own the whole list and, applied with just our entry, replace the
//! entries others set; a strategic merge patch replaces an atomic list just the same. So the
//! service account is read, our entry is appended to the list as read (every other entry kept
//! verbatim, none repeated), and the whole list is written back with a JSON merge patch
//! (RFC 7386) that also carries the `metadata.resourceVersion` that was read: the API server
//! refuses the patch with 409 Conflict when the service account changed in between, so an entry
//! added concurrently is never lost. When our entry is already there, nothing is written.

use serde_json::{Value, json};

/// The `imagePullSecrets` entries as read with `secret` appended, or `None` when an entry
/// already names `secret` (nothing to change). Other entries are kept exactly as they are.
pub fn with_pull_secret(existing: &[Value], secret: &str) -> Option<Vec<Value>> {
    let present = existing
        .iter()
        .any(|entry| entry.get("name").and_then(Value::as_str) == Some(secret));
    if present {
        return None;
    }
    let mut entries = existing.to_vec();
    entries.push(json!({ "name": secret }));
    Some(entries)
}

/// The JSON merge patch setting `imagePullSecrets` to `entries`, on the condition that the
/// service account still has `resource_version`.
pub fn image_pull_secrets_patch(resource_version: &str, entries: Vec<Value>) -> Value {
    json!({
        "metadata": { "resourceVersion": resource_version },
        "imagePullSecrets": entries,
    })
}
