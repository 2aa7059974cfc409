//! What a policy says about itself, stored as JSON in the `acr.policy.metadata` custom section.

use crate::review::SubjectKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The ABI version this SDK implements and `acr_abi_version` returns.
pub const ABI_VERSION: i32 = 1;

/// Name of the custom section holding the metadata JSON.
pub const METADATA_SECTION: &str = "acr.policy.metadata";

/// A policy's description of itself; the host reads it before compiling the module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Short, stable, kebab-case, for example `trust-distribution-requires-ca`.
    pub name: String,
    /// The policy's own version, for example `1.0.0`.
    pub version: String,
    /// One or two sentences for people.
    #[serde(default)]
    pub description: String,
    /// The kinds of review the policy applies to; the host sends it no other kind.
    pub subjects: Vec<SubjectKind>,
    /// A JSON-Schema-like description of the settings the policy accepts (`null` for none).
    #[serde(default)]
    pub settings: Value,
}

impl Metadata {
    /// Parses the metadata JSON and checks that the name is usable.
    pub fn from_json(text: &str) -> Result<Self, MetadataError> {
        let metadata: Self = serde_json::from_str(text).map_err(|error| MetadataError::Json {
            reason: error.to_string(),
        })?;
        let name_is_kebab_case = !metadata.name.is_empty()
            && metadata
                .name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if !name_is_kebab_case {
            return Err(MetadataError::Name(metadata.name));
        }
        if metadata.subjects.is_empty() {
            return Err(MetadataError::NoSubjects(metadata.name));
        }
        Ok(metadata)
    }

    /// Whether the policy applies to reviews of `subject`.
    pub fn applies_to(&self, subject: SubjectKind) -> bool {
        self.subjects.contains(&subject)
    }
}

/// Why metadata JSON is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata is not valid policy metadata JSON: {reason}")]
    Json { reason: String },
    #[error("metadata name `{0}` is not kebab-case (lowercase letters, digits and `-`)")]
    Name(String),
    #[error("metadata of `{0}` lists no subjects it applies to")]
    NoSubjects(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parses_and_lists_subjects() {
        let metadata = Metadata::from_json(
            r#"{"name": "certificate-hygiene", "version": "1.2.0", "description": "d",
                "subjects": ["connected-registry", "custom-domain"],
                "settings": {"minimumDays": {"type": "integer"}}}"#,
        )
        .expect("valid metadata");
        assert!(metadata.applies_to(SubjectKind::CustomDomain));
        assert!(!metadata.applies_to(SubjectKind::PullSecret));
    }

    #[test]
    fn unusable_metadata_is_explained() {
        let name = Metadata::from_json(
            r#"{"name": "Bad Name", "version": "1", "subjects": ["pull-secret"]}"#,
        )
        .expect_err("bad name");
        assert_eq!(
            name.to_string(),
            "metadata name `Bad Name` is not kebab-case (lowercase letters, digits and `-`)"
        );
        let subjects = Metadata::from_json(r#"{"name": "x", "version": "1", "subjects": []}"#)
            .expect_err("no subjects");
        assert_eq!(
            subjects.to_string(),
            "metadata of `x` lists no subjects it applies to"
        );
        let json = Metadata::from_json("{").expect_err("not JSON");
        assert!(
            json.to_string()
                .starts_with("metadata is not valid policy metadata JSON: "),
            "{json}"
        );
    }
}
