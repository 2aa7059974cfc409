//! A plan as text: multi-document YAML or a v1 `List`, with Secret values redacted unless asked.
//!
//! Redaction replaces every value under a Secret's `data` with [`REDACTED_BASE64`], the base64 of
//! `<redacted>`, so a redacted manifest is still a valid Secret (schema checks pass; applying it
//! would store the word `<redacted>`). Keys are kept, so the reader sees what the Secret holds.
//!
//! YAML keys come in a fixed order, whatever `serde_json` features the build has: `apiVersion`,
//! `kind` and `metadata` first, every other key alphabetically.

use super::{Plan, PlannedObject};
use crate::secret::REDACTED;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// Whether Secret values appear in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretDisplay {
    /// Every Secret `data` value replaced with [`REDACTED_BASE64`].
    Redacted,
    /// The real values (`--show-secrets`).
    Shown,
}

/// The base64 of `<redacted>`: what a redacted Secret `data` value reads.
pub const REDACTED_BASE64: &str = "PHJlZGFjdGVkPg==";

/// `kind.group/name` (`kind/name` in the core group), as `kubectl ... -o name` names an object.
pub fn kubectl_name(api_version: &str, kind: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    match api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

impl Plan {
    /// The manifests as YAML documents separated by `---`.
    pub fn to_yaml(&self, display: SecretDisplay) -> String {
        self.objects
            .iter()
            .map(|object| manifest_yaml(&object.displayed(display)))
            .collect::<Vec<_>>()
            .join("---\n")
    }

    /// One `kind.group/name` line per object, as `kubectl ... -o name` prints them.
    pub fn to_names(&self) -> String {
        self.objects
            .iter()
            .map(|object| {
                format!(
                    "{}\n",
                    kubectl_name(&object.api_version, &object.kind, &object.name)
                )
            })
            .collect()
    }

    /// The manifests as one `v1` `List`, as `kubectl get -o json` prints several objects.
    pub fn to_json(&self, display: SecretDisplay) -> Value {
        let items: Vec<Value> = self
            .objects
            .iter()
            .map(|object| object.displayed(display))
            .collect();
        json!({ "apiVersion": "v1", "kind": "List", "items": items })
    }
}

/// One manifest as a YAML document, keys in the order described in the module documentation.
pub(super) fn manifest_yaml(manifest: &Value) -> String {
    serde_yaml_ng::to_string(&OrderedKeys {
        value: manifest,
        top_level: true,
    })
    .expect("JSON values with string keys always serialise to YAML")
}

impl PlannedObject {
    /// The manifest as it may be shown.
    pub fn displayed(&self, display: SecretDisplay) -> Value {
        let mut manifest = self.manifest.clone();
        if self.holds_secret && display == SecretDisplay::Redacted {
            redact(&mut manifest);
        }
        manifest
    }
}

/// Replaces every Secret value. Plans only use `data`; `stringData` is covered too so that no
/// manifest a Secret could carry values in slips through.
fn redact(manifest: &mut Value) {
    for (field, replacement) in [("data", REDACTED_BASE64), ("stringData", REDACTED)] {
        if let Some(Value::Object(values)) = manifest.get_mut(field) {
            for value in values.values_mut() {
                *value = Value::String(replacement.to_owned());
            }
        }
    }
}

/// Serialises a JSON value with the key order described in the module documentation.
struct OrderedKeys<'a> {
    value: &'a Value,
    top_level: bool,
}

const LEADING_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];

impl Serialize for OrderedKeys<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|key| {
                    let leading = LEADING_KEYS
                        .iter()
                        .position(|leading| self.top_level && *leading == key.as_str());
                    (leading.unwrap_or(LEADING_KEYS.len()), key.as_str())
                });
                let mut out = serializer.serialize_map(Some(keys.len()))?;
                for key in keys {
                    out.serialize_entry(
                        key,
                        &OrderedKeys {
                            value: &map[key],
                            top_level: false,
                        },
                    )?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&OrderedKeys {
                        value: item,
                        top_level: false,
                    })?;
                }
                out.end()
            }
            scalar => scalar.serialize(serializer),
        }
    }
}
