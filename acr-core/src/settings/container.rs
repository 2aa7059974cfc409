//! The container contract: what the plan assumes about the connected registry image (image,
//! ports, user, paths, certificate file names, environment), in one typed profile. Each value
//! says whether Microsoft documents it or this tool guesses it; every one can be overridden with
//! a `container.*` `--config` key, so a user who knows better is never stuck.
//! docs/connected-registry.md lists the sources.

use super::{SettingsError, keys};
use serde::Serialize;

/// The variable holding the connection string (documented: IoT Edge deployment guides).
pub const ENV_CONNECTION_STRING: &str = "ACR_REGISTRY_CONNECTION_STRING";
/// The variable naming the only login server the registry answers to (documented, optional).
pub const ENV_LOGIN_SERVER: &str = "ACR_REGISTRY_LOGIN_SERVER";
/// The variable naming the data directory (documented, default `/var/acr/data`).
pub const ENV_DATA_VOLUME: &str = "ACR_REGISTRY_DATA_VOLUME";
/// The variable naming the HTTPS certificate directory (documented, default `/var/acr/certs`).
pub const ENV_CERTIFICATE_VOLUME: &str = "ACR_REGISTRY_CERTIFICATE_VOLUME";

/// The connected registry image, pinned by tag: the newest tag in the Azure/acr connected
/// registry release notes (documented).
pub const DEFAULT_REGISTRY_IMAGE: &str = "mcr.microsoft.com/acr/connected-registry:0.9.0";
/// The plain HTTP port inside the container (documented: the IoT Edge guides map 8080).
const DEFAULT_HTTP_PORT: u16 = 8080;
/// The HTTPS port inside the container (a guess: not documented anywhere public).
const DEFAULT_HTTPS_PORT: u16 = 8443;
/// The user the container runs as (a guess: the error codes page says the image runs as root
/// by default; this tool runs it as an unprivileged user and gives it the data volume).
const DEFAULT_RUN_AS_USER: i64 = 1000;
/// Where the registry keeps its data (documented).
const DEFAULT_DATA_PATH: &str = "/var/acr/data";
/// Where the registry reads its HTTPS certificate (documented).
const DEFAULT_CERTS_PATH: &str = "/var/acr/certs";
/// The certificate's file name in the certificate directory (a guess).
const DEFAULT_CERT_FILE: &str = "tls.crt";
/// The private key's file name in the certificate directory (a guess).
const DEFAULT_KEY_FILE: &str = "tls.key";

/// The container contract the plan renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProfile {
    /// `container.image`, pinned by tag or digest.
    pub image: String,
    /// `container.httpsPort`: the HTTPS port the registry listens on inside the container.
    pub https_port: u16,
    /// `container.httpPort`: the plain HTTP port (used with `httpEnabled=true`).
    pub http_port: u16,
    /// `container.runAsUser`: the user id; 0 runs the image as root, as it runs by default.
    pub run_as_user: i64,
    /// `container.dataPath`: the data directory, given in [`ENV_DATA_VOLUME`].
    pub data_path: String,
    /// `container.certsPath`: the certificate directory, given in [`ENV_CERTIFICATE_VOLUME`].
    pub certs_path: String,
    /// `container.certFile`: the file name `tls.crt` is mounted as in the certificate directory.
    pub cert_file: String,
    /// `container.keyFile`: the file name `tls.key` is mounted as in the certificate directory.
    pub key_file: String,
}

impl Default for ContainerProfile {
    fn default() -> Self {
        Self {
            image: DEFAULT_REGISTRY_IMAGE.to_owned(),
            https_port: DEFAULT_HTTPS_PORT,
            http_port: DEFAULT_HTTP_PORT,
            run_as_user: DEFAULT_RUN_AS_USER,
            data_path: DEFAULT_DATA_PATH.to_owned(),
            certs_path: DEFAULT_CERTS_PATH.to_owned(),
            cert_file: DEFAULT_CERT_FILE.to_owned(),
            key_file: DEFAULT_KEY_FILE.to_owned(),
        }
    }
}

impl ContainerProfile {
    /// Whether the container runs as root.
    pub fn runs_as_root(&self) -> bool {
        self.run_as_user == 0
    }

    /// The profile with the `container.*` values set, each checked; `defaulted` records the keys
    /// left at their default.
    pub(super) fn resolve(
        get: impl Fn(&str) -> Option<String>,
        defaulted: &mut std::collections::BTreeSet<&'static str>,
    ) -> Result<Self, SettingsError> {
        let mut profile = Self::default();
        let mut take = |key: &'static str| {
            let value = get(key);
            if value.is_none() {
                defaulted.insert(key);
            }
            value
        };
        if let Some(image) = take(keys::CONTAINER_IMAGE) {
            if let Some(problem) = pinned_image_problem(image.trim()) {
                return Err(invalid(
                    keys::CONTAINER_IMAGE,
                    &image,
                    &format!("cannot be used: {problem}"),
                ));
            }
            profile.image = image.trim().to_owned();
        }
        if let Some(port) = take(keys::CONTAINER_HTTPS_PORT) {
            profile.https_port = parse_port(keys::CONTAINER_HTTPS_PORT, &port)?;
        }
        if let Some(port) = take(keys::CONTAINER_HTTP_PORT) {
            profile.http_port = parse_port(keys::CONTAINER_HTTP_PORT, &port)?;
        }
        if profile.http_port == profile.https_port {
            return Err(SettingsError::Conflict {
                first: format!("{}={}", keys::CONTAINER_HTTPS_PORT, profile.https_port),
                second: format!("{}={}", keys::CONTAINER_HTTP_PORT, profile.http_port),
                detail: "HTTPS and HTTP need two different container ports".to_owned(),
            });
        }
        if let Some(user) = take(keys::CONTAINER_RUN_AS_USER) {
            profile.run_as_user = match user.trim().parse::<i64>() {
                Ok(id) if (0..=i64::from(i32::MAX)).contains(&id) => id,
                _ => {
                    return Err(invalid(
                        keys::CONTAINER_RUN_AS_USER,
                        &user,
                        "is not a user id: give a number from 0 (root) to 2147483647",
                    ));
                }
            };
        }
        for (key, slot) in [
            (keys::CONTAINER_DATA_PATH, &mut profile.data_path),
            (keys::CONTAINER_CERTS_PATH, &mut profile.certs_path),
        ] {
            if let Some(path) = take(key) {
                if !is_safe_absolute_path(path.trim()) {
                    return Err(invalid(
                        key,
                        &path,
                        "is not usable: give an absolute path of letters, digits, '.', '_', '-' and '/', without '..'",
                    ));
                }
                *slot = path.trim().to_owned();
            }
        }
        if profile.data_path == profile.certs_path {
            return Err(SettingsError::Conflict {
                first: format!("{}={}", keys::CONTAINER_DATA_PATH, profile.data_path),
                second: format!("{}={}", keys::CONTAINER_CERTS_PATH, profile.certs_path),
                detail: "the data volume and the certificate volume need two directories"
                    .to_owned(),
            });
        }
        for (key, slot) in [
            (keys::CONTAINER_CERT_FILE, &mut profile.cert_file),
            (keys::CONTAINER_KEY_FILE, &mut profile.key_file),
        ] {
            if let Some(name) = take(key) {
                if !is_file_name(name.trim()) {
                    return Err(invalid(
                        key,
                        &name,
                        "is not a file name: give one name of letters, digits, '.', '_' and '-'",
                    ));
                }
                *slot = name.trim().to_owned();
            }
        }
        if profile.cert_file == profile.key_file {
            return Err(SettingsError::Conflict {
                first: format!("{}={}", keys::CONTAINER_CERT_FILE, profile.cert_file),
                second: format!("{}={}", keys::CONTAINER_KEY_FILE, profile.key_file),
                detail: "the certificate and the key need two file names".to_owned(),
            });
        }
        Ok(profile)
    }
}

fn invalid(key: &str, value: &str, detail: &str) -> SettingsError {
    SettingsError::InvalidValue {
        key: key.to_owned(),
        detail: format!("`{value}` {detail}"),
    }
}

fn parse_port(key: &'static str, value: &str) -> Result<u16, SettingsError> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(invalid(
            key,
            value,
            "is not a port: give a number from 1 to 65535",
        )),
    }
}

/// Why an image reference is not pinned by a tag other than `latest` or a digest, if it is not.
pub(crate) fn pinned_image_problem(image: &str) -> Option<&'static str> {
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        return Some("it is empty or contains white space");
    }
    let last_component = image.rsplit('/').next().unwrap_or(image);
    let pinned = image.contains('@') || last_component.contains(':');
    if pinned && !image.ends_with(":latest") {
        None
    } else {
        Some("pin it with a tag other than latest (image:1.2.3) or a digest (image@sha256:...)")
    }
}

/// An absolute path of `[A-Za-z0-9._/-]` without `..`: safe unquoted in scripts and manifests.
pub(crate) fn is_safe_absolute_path(path: &str) -> bool {
    let allowed = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    path.starts_with('/') && path.len() > 1 && allowed && !path.split('/').any(|part| part == "..")
}

fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
