//! Key Vault secret IDs (`https://<vault>.vault.azure.net/secrets/<name>[/<version>]`) and
//! what a versioned or unversioned ID means for certificate rotation.

use super::CustomDomainError;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A Key Vault secret identifier, with or without a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVaultSecretId {
    pub vault: String,
    /// The vault's host, e.g. `contoso-kv.vault.azure.net` (other clouds have other suffixes).
    pub host: String,
    pub name: String,
    pub version: Option<String>,
}

/// How a certificate update in Key Vault reaches the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rotation {
    /// An unversioned ID: new versions are picked up automatically.
    Automatic,
    /// A versioned ID: that version is served until the ID is changed.
    Manual,
}

impl Rotation {
    /// What the rotation mode means for the person rotating the certificate.
    pub fn consequence(self) -> &'static str {
        match self {
            Rotation::Automatic => {
                "unversioned secret ID: when you add a new version of the secret, the registry picks \
                 it up automatically; for up to 15 minutes both the old and the new certificate \
                 may be served, so keep the old one valid until then"
            }
            Rotation::Manual => {
                "versioned secret ID: no automatic rotation; the registry serves this version until \
                 you give it a new secret ID, so renew before the certificate expires"
            }
        }
    }
}

impl KeyVaultSecretId {
    pub fn rotation(&self) -> Rotation {
        if self.version.is_some() {
            Rotation::Manual
        } else {
            Rotation::Automatic
        }
    }
}

impl fmt::Display for KeyVaultSecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}/secrets/{}", self.host, self.name)?;
        match &self.version {
            Some(version) => write!(f, "/{version}"),
            None => Ok(()),
        }
    }
}

impl FromStr for KeyVaultSecretId {
    type Err = CustomDomainError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| CustomDomainError::InvalidInput {
            what: "Key Vault secret ID",
            value: given.to_owned(),
            reason: format!(
                "{reason}; expected https://<vault>.vault.azure.net/secrets/<name>[/<version>]"
            ),
        };
        let rest = given
            .trim()
            .strip_prefix("https://")
            .ok_or_else(|| invalid("it does not start with https://"))?;
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid("it has no /secrets/<name> path"))?;
        let host = host.to_ascii_lowercase();
        let (vault, suffix) = host
            .split_once('.')
            .ok_or_else(|| invalid("the host is not a Key Vault host"))?;
        if !suffix.starts_with("vault.") || !(3..=24).contains(&vault.len()) {
            return Err(invalid("the host is not <vault>.vault.<cloud suffix>"));
        }
        let mut segments = path.trim_end_matches('/').split('/');
        if segments.next() != Some("secrets") {
            return Err(invalid("the path does not start with /secrets/"));
        }
        let name = segments
            .next()
            .filter(|name| !name.is_empty())
            .ok_or_else(|| invalid("it names no secret"))?;
        if name.len() > 127 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid(
                "a secret name has 1 to 127 letters, digits and hyphens",
            ));
        }
        let version = segments.next().map(str::to_owned);
        if version.as_ref().is_some_and(|version| {
            version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric())
        }) {
            return Err(invalid("the version is not letters and digits"));
        }
        if segments.next().is_some() {
            return Err(invalid(
                "it has more path segments than /secrets/<name>/<version>",
            ));
        }
        Ok(Self {
            vault: vault.to_owned(),
            host: host.clone(),
            name: name.to_owned(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_and_unversioned_ids_decide_rotation() {
        let unversioned: KeyVaultSecretId =
            "https://contoso-kv.vault.azure.net/secrets/registry-cert"
                .parse()
                .expect("valid");
        assert_eq!(unversioned.vault, "contoso-kv");
        assert_eq!(unversioned.name, "registry-cert");
        assert_eq!(unversioned.rotation(), Rotation::Automatic);
        assert!(
            unversioned
                .rotation()
                .consequence()
                .contains("up to 15 minutes")
        );
        let versioned: KeyVaultSecretId =
            "https://contoso-kv.vault.azure.net/secrets/registry-cert/0123456789abcdef0123456789abcdef"
                .parse()
                .expect("valid");
        assert_eq!(versioned.rotation(), Rotation::Manual);
        assert!(
            versioned
                .rotation()
                .consequence()
                .contains("no automatic rotation")
        );
        assert_eq!(
            versioned.to_string(),
            "https://contoso-kv.vault.azure.net/secrets/registry-cert/0123456789abcdef0123456789abcdef"
        );
        let china: KeyVaultSecretId = "https://kv123.vault.azure.cn/secrets/c/"
            .parse()
            .expect("valid");
        assert_eq!(china.host, "kv123.vault.azure.cn");
        assert_eq!(china.version, None);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_reason() {
        let error = |given: &str| {
            given
                .parse::<KeyVaultSecretId>()
                .expect_err("refused")
                .to_string()
        };
        assert!(
            error("http://kv1.vault.azure.net/secrets/a").contains("does not start with https://")
        );
        assert!(
            error("https://kv1.blob.core.windows.net/secrets/a").contains("not <vault>.vault.")
        );
        assert!(
            error("https://kv1.vault.azure.net/keys/a").contains("does not start with /secrets/")
        );
        assert!(error("https://kv1.vault.azure.net/secrets/").contains("names no secret"));
        assert!(
            error("https://kv1.vault.azure.net/secrets/a_b")
                .contains("letters, digits and hyphens")
        );
        assert!(error("https://kv1.vault.azure.net/secrets/a/v1/x").contains("more path segments"));
    }
}
