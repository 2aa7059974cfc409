//! Registry credentials as Docker keeps them, for registries that ask and were given none on the
//! command line: `config.json` in `$DOCKER_CONFIG`, else in `~/.docker`; for the registry, its
//! `credHelpers` entry or else the `credsStore`, run as `docker-credential-NAME get` with the
//! registry on standard input; else its `auths` entry (`auth`: base64 of `user:password`).

use base64::Engine as _;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A user name and password (or ACR token) found for a registry; never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DockerLogin {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for DockerLogin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DockerLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why Docker's credentials could not be read; the text names the file or helper, never a
/// secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DockerCredentialsError {
    #[error("cannot read the Docker configuration {}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
    #[error(
        "the Docker credential helper docker-credential-{helper} failed for {registry}: {reason}"
    )]
    Helper {
        helper: String,
        registry: String,
        reason: String,
    },
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
}

/// The Docker configuration file this process would use.
pub fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json"))
        }
    }
}

/// The credentials Docker has for `registry` (`host[:port]`), `Ok(None)` when it has none.
pub fn lookup(registry: &str) -> Result<Option<DockerLogin>, DockerCredentialsError> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let config_error = |reason: String| DockerCredentialsError::Config {
        path: path.clone(),
        reason,
    };
    let bytes = match acr_io::read(&path, acr_io::InputKind::Secret) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(config_error(error.to_string())),
    };
    let config: DockerConfig =
        serde_json::from_slice(&bytes).map_err(|error| config_error(error.to_string()))?;
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| same_registry(key, registry))
        .map(|(_, helper)| helper)
        .or(config.creds_store.as_ref());
    if let Some(helper) = helper {
        return from_helper(helper, registry);
    }
    let Some(encoded) = config
        .auths
        .iter()
        .find(|(key, _)| same_registry(key, registry))
        .and_then(|(_, entry)| entry.auth.as_deref())
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| config_error(format!("the `auth` of {registry} is not base64 text")))?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or_else(|| config_error(format!("the `auth` of {registry} is not `user:password`")))?;
    Ok(Some(DockerLogin {
        username: username.to_owned(),
        password: password.to_owned(),
    }))
}

/// Whether a key of `auths` or `credHelpers` (which may be a URL) names `registry`.
fn same_registry(key: &str, registry: &str) -> bool {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    host.eq_ignore_ascii_case(registry)
}

fn from_helper(
    helper: &str,
    registry: &str,
) -> Result<Option<DockerLogin>, DockerCredentialsError> {
    let failed = |reason: String| DockerCredentialsError::Helper {
        helper: helper.to_owned(),
        registry: registry.to_owned(),
        reason,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| failed(error.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(registry.as_bytes())
            .map_err(|error| failed(error.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| failed(error.to_string()))?;
    if !output.status.success() {
        // The helpers' protocol: "credentials not found in native keychain" on stdout.
        let said = String::from_utf8_lossy(&output.stdout);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(failed(format!(
            "it exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    #[derive(serde::Deserialize)]
    struct HelperAnswer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|error| failed(format!("its answer is not the helper JSON: {error}")))?;
    Ok(Some(DockerLogin {
        username: answer.username,
        password: answer.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_match_auths_keys_written_as_urls() {
        assert!(same_registry(
            "https://index.docker.io/v1/",
            "index.docker.io"
        ));
        assert!(same_registry("contoso.azurecr.io", "contoso.azurecr.io"));
        assert!(same_registry("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(!same_registry("127.0.0.1:5000", "127.0.0.1"));
    }
}
