//! The connected registry settings model: the Arc extension's `--config` keys and protected
//! settings, read exactly as `az k8s-extension create` takes them, with defaults and the TLS source.

pub mod connection_string;
mod container;
pub mod keys;
pub mod protected;
pub mod protected_write;
mod tls_source;
mod view;

pub use connection_string::{ConnectionString, ConnectionStringError, ParentAuth, ParentProtocol};
pub use container::{
    ContainerProfile, DEFAULT_REGISTRY_IMAGE, ENV_CERTIFICATE_VOLUME, ENV_CONNECTION_STRING,
    ENV_DATA_VOLUME, ENV_LOGIN_SERVER,
};
pub(crate) use container::{is_safe_absolute_path, pinned_image_problem};
pub use tls_source::TlsSource;
pub use view::{EffectiveSettings, ProtectedView, TlsSourceView};

use crate::secret::{SecretString, ValueShape};
use protected::{PemKind, ProtectedValueError};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Default of `pvc.storageRequest`, as in the Arc extension.
pub const DEFAULT_STORAGE_REQUEST: &str = "500Gi";

/// A refused setting. Messages name the setting and say what was expected; secrets never appear.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{flag} expects key=value, got `{argument}`")]
    NotKeyValue {
        flag: &'static str,
        argument: String,
    },
    #[error("unknown setting `{key}`{}", suggestion_text(.suggestion))]
    UnknownKey {
        key: String,
        suggestion: Option<&'static str>,
    },
    #[error(
        "{key} is a protected setting: pass it with --config-protected or --config-protected-file, not --config"
    )]
    ProtectedInPublic { key: String },
    #[error("{key} is not a protected setting: pass it with --config")]
    PublicInProtected { key: String },
    #[error("unknown protected setting ({shape}){}", suggestion_text(.suggestion))]
    UnknownProtectedKey {
        shape: ValueShape,
        suggestion: Option<&'static str>,
    },
    #[error("{key} {problem}")]
    ProtectedValue {
        key: &'static str,
        problem: ProtectedValueError,
    },
    #[error("{key}={value} is not a boolean; use true or false")]
    NotBoolean { key: &'static str, value: String },
    #[error("{key}={value} is not an IP address: {reason}")]
    NotIp {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "{key}={ip} cannot be a ClusterIP: it is {why}; give an address inside the cluster's service CIDR"
    )]
    UnusableIp {
        key: &'static str,
        ip: IpAddr,
        why: &'static str,
    },
    #[error("{key}={value} is not a Kubernetes quantity (for example 500Gi or 1Ti)")]
    NotQuantity { key: &'static str, value: String },
    #[error("{key} {detail}")]
    InvalidValue { key: String, detail: String },
    #[error("{key} is required: {why}")]
    Missing {
        key: &'static str,
        why: &'static str,
    },
    #[error("{first} and {second} disagree: {detail}")]
    Conflict {
        first: String,
        second: String,
        detail: String,
    },
    #[error("{origin}: invalid JSON at line {line}, column {column}: {message}{}", hint_text(.hint))]
    InvalidJson {
        origin: String,
        line: usize,
        column: usize,
        message: String,
        hint: Option<String>,
    },
    #[error("{origin}: cannot read protected settings: {detail}")]
    ProtectedFileEncoding { origin: String, detail: String },
    #[error("{origin}: {detail}")]
    ProtectedFileShape { origin: String, detail: String },
    #[error("connectionString: {0}")]
    ConnectionString(ConnectionStringError),
}

/// Not `#[from]`: that would also make the connection string error this one's source, and the
/// binaries, printing the chain, would say it twice.
impl From<ConnectionStringError> for SettingsError {
    fn from(error: ConnectionStringError) -> Self {
        SettingsError::ConnectionString(error)
    }
}

fn suggestion_text(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|key| format!("; did you mean {key}?"))
        .unwrap_or_else(|| {
            format!(
                "; known settings: {}; protected: {}",
                keys::PUBLIC.join(", "),
                keys::PROTECTED.join(", ")
            )
        })
}

fn hint_text(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|hint| format!("\n  hint: {hint}"))
        .unwrap_or_default()
}

/// The raw inputs, as the command line gave them. Later values of the same key win, as in `az`.
#[derive(Debug, Default, Clone)]
pub struct SettingsInput {
    /// `--config key=value`, in order.
    pub config: Vec<(String, String)>,
    /// `--config-protected-file`: where it came from (for messages) and its bytes.
    pub protected_file: Option<(String, Vec<u8>)>,
    /// `--config-protected key=value`, in order; these override the file.
    pub protected: Vec<(String, String)>,
}

/// Splits a `key=value` flag argument; the value may contain `=`. A refused argument is shown
/// only when it can hold no secret: never for protected flags, and for `--config` not when it
/// looks like a connection string (which `--config` may carry).
pub fn split_key_value(
    flag: &'static str,
    argument: &str,
) -> Result<(String, String), SettingsError> {
    match argument.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(SettingsError::NotKeyValue {
            flag,
            argument: if flag.contains("protected") {
                crate::secret::REDACTED.to_owned()
            } else if argument.contains(';') {
                ValueShape::of(argument).to_string()
            } else {
                argument.to_owned()
            },
        }),
    }
}

/// The TLS material given in protected settings, decoded from base64.
#[derive(Debug, Clone, Default)]
pub struct ProtectedSettings {
    pub connection_string: Option<ConnectionString>,
    /// `tls.crt`, decoded PEM (the serving certificate, optionally followed by its chain).
    pub tls_crt: Option<String>,
    /// `tls.key`, decoded PEM.
    pub tls_key: Option<SecretString>,
    /// `tls.cacrt`, decoded PEM.
    pub tls_cacrt: Option<String>,
    /// `tls.secret`: the name of an existing `kubernetes.io/tls` Secret.
    pub tls_secret: Option<String>,
}

/// `service.type`: how the registry Service is exposed. Every type keeps `service.clusterIP`,
/// the address nodes pull from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    /// The Kubernetes name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// The effective connected registry settings: every key resolved, defaults filled in.
#[derive(Debug, Clone)]
pub struct ConnectedRegistrySettings {
    pub service_cluster_ip: IpAddr,
    pub service_type: ServiceType,
    pub pvc_storage_class_name: Option<String>,
    pub pvc_storage_request: String,
    pub cert_manager_enabled: bool,
    pub cert_manager_install: bool,
    pub trust_distribution_enabled: bool,
    /// `trustDistribution.useNodeSelector`: trust only nodes labelled
    /// `containerd-configured-by=connected-registry` (default: every Linux node).
    pub trust_distribution_use_node_selector: bool,
    /// `registryLoginServer`: the host name (or address) clients use; the only one the registry
    /// answers to, and a name the serving certificate covers.
    pub registry_login_server: Option<String>,
    /// `httpEnabled`: the registry also answers plain HTTP on Service port 80.
    pub http_enabled: bool,
    /// The container contract, `container.*`.
    pub container: ContainerProfile,
    pub protected: ProtectedSettings,
    pub tls_source: TlsSource,
    /// Public keys that took their default value (for display).
    pub defaulted: BTreeSet<&'static str>,
}

impl ConnectedRegistrySettings {
    /// Resolves the inputs into settings, refusing unknown keys, wrong types and conflicts.
    pub fn resolve(input: &SettingsInput) -> Result<Self, SettingsError> {
        let mut public = PublicValues::collect(&input.config)?;
        let protected = ProtectedValues::collect(input, public.connection_string.take())?;

        let service_cluster_ip = match public.get(keys::SERVICE_CLUSTER_IP) {
            Some(value) => parse_ip(keys::SERVICE_CLUSTER_IP, value)?,
            None => {
                return Err(SettingsError::Missing {
                    key: keys::SERVICE_CLUSTER_IP,
                    why: "give the ClusterIP the registry Service takes, inside the cluster's service CIDR, with --config service.clusterIP=<IP>",
                });
            }
        };
        let mut defaulted = BTreeSet::new();
        let mut boolean = |key: &'static str, default: bool| -> Result<bool, SettingsError> {
            match public.get(key) {
                Some(value) => parse_bool(key, value),
                None => {
                    defaulted.insert(key);
                    Ok(default)
                }
            }
        };
        let cert_manager_enabled = boolean(keys::CERT_MANAGER_ENABLED, true)?;
        let cert_manager_install = boolean(keys::CERT_MANAGER_INSTALL, true)?;
        let trust_distribution_enabled = boolean(keys::TRUST_DISTRIBUTION_ENABLED, true)?;
        let http_enabled = boolean(keys::HTTP_ENABLED, false)?;
        let trust_distribution_use_node_selector = resolve_use_node_selector(&public)?;
        if public
            .get(keys::TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR)
            .is_none()
            && public
                .get(keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR)
                .is_none()
        {
            defaulted.insert(keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR);
        }
        let service_type = match public.get(keys::SERVICE_TYPE).map(str::trim) {
            None => {
                defaulted.insert(keys::SERVICE_TYPE);
                ServiceType::ClusterIP
            }
            Some("ClusterIP") => ServiceType::ClusterIP,
            Some("NodePort") => ServiceType::NodePort,
            Some("LoadBalancer") => ServiceType::LoadBalancer,
            Some(other) => {
                return Err(SettingsError::InvalidValue {
                    key: keys::SERVICE_TYPE.to_owned(),
                    detail: format!(
                        "`{other}` is not usable: give ClusterIP (the default), NodePort or LoadBalancer; the nodes pull through service.clusterIP, which ExternalName and headless Services do not have"
                    ),
                });
            }
        };
        let registry_login_server = match public.get(keys::REGISTRY_LOGIN_SERVER) {
            None => {
                defaulted.insert(keys::REGISTRY_LOGIN_SERVER);
                None
            }
            Some(value) => Some(parse_login_server(value)?),
        };
        let container =
            ContainerProfile::resolve(|key| public.get(key).map(str::to_owned), &mut defaulted)?;

        let pvc_storage_class_name = match public.get(keys::PVC_STORAGE_CLASS_NAME) {
            Some(value) if value.trim().is_empty() => {
                return Err(SettingsError::InvalidValue {
                    key: keys::PVC_STORAGE_CLASS_NAME.to_owned(),
                    detail: "is empty; leave it out to use the cluster's default storage class"
                        .to_owned(),
                });
            }
            Some(value) => match protected::subdomain_problem(value.trim()) {
                None => Some(value.trim().to_owned()),
                Some(problem) => {
                    return Err(SettingsError::InvalidValue {
                        key: keys::PVC_STORAGE_CLASS_NAME.to_owned(),
                        detail: format!(
                            "`{value}` is not a valid storage class name: {problem} (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)"
                        ),
                    });
                }
            },
            None => {
                defaulted.insert(keys::PVC_STORAGE_CLASS_NAME);
                None
            }
        };
        let pvc_storage_request = match public.get(keys::PVC_STORAGE_REQUEST) {
            Some(value) => parse_quantity(keys::PVC_STORAGE_REQUEST, value)?,
            None => {
                defaulted.insert(keys::PVC_STORAGE_REQUEST);
                DEFAULT_STORAGE_REQUEST.to_owned()
            }
        };

        let protected = protected.decode()?;
        let tls_source = TlsSource::derive(cert_manager_enabled, cert_manager_install, &protected)?;
        Ok(Self {
            service_cluster_ip,
            pvc_storage_class_name,
            pvc_storage_request,
            cert_manager_enabled,
            cert_manager_install,
            trust_distribution_enabled,
            trust_distribution_use_node_selector,
            registry_login_server,
            http_enabled,
            container,
            service_type,
            protected,
            tls_source,
            defaulted,
        })
    }
}

/// Public values by key, after checking each key; later values win. A protected setting the
/// Arc extension also takes with `--config` (`connectionString`) is held as a secret from the
/// moment it is read.
struct PublicValues {
    values: Vec<(&'static str, String)>,
    connection_string: Option<SecretString>,
}

impl PublicValues {
    fn collect(pairs: &[(String, String)]) -> Result<Self, SettingsError> {
        let mut values: Vec<(&'static str, String)> = Vec::new();
        let mut connection_string = None;
        let accepted: Vec<&'static str> = keys::PUBLIC
            .iter()
            .chain(&keys::PROTECTED_ALSO_PUBLIC)
            .copied()
            .collect();
        for (key, value) in pairs {
            let known = known_key(key, &accepted, &keys::PROTECTED, |key| {
                SettingsError::ProtectedInPublic { key }
            })?;
            if known == keys::CONNECTION_STRING {
                connection_string = Some(SecretString::new(value.as_str()));
                continue;
            }
            values.retain(|(existing, _)| *existing != known);
            values.push((known, value.trim_end_matches(['\r', '\n']).to_owned()));
        }
        Ok(Self {
            values,
            connection_string,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(_, value)| value.as_str())
    }
}

impl ProtectedSettings {
    /// A protected settings file read as `--config-protected-file` reads it, and the TLS source
    /// it gives on its own (without cert-manager).
    pub fn read_file(origin: &str, bytes: &[u8]) -> Result<(Self, TlsSource), SettingsError> {
        let input = SettingsInput {
            protected_file: Some((origin.to_owned(), bytes.to_vec())),
            ..SettingsInput::default()
        };
        let protected = ProtectedValues::collect(&input, None)?.decode()?;
        let tls_source = TlsSource::derive(false, false, &protected)?;
        Ok((protected, tls_source))
    }
}

/// Protected values by key (file first, then flags), not yet decoded; held as secrets from here on.
struct ProtectedValues(Vec<(&'static str, SecretString)>);

impl ProtectedValues {
    fn collect(
        input: &SettingsInput,
        from_config: Option<SecretString>,
    ) -> Result<Self, SettingsError> {
        let mut pairs = match &input.protected_file {
            Some((origin, bytes)) => protected::parse_protected_json(origin, bytes)?,
            None => Vec::new(),
        };
        pairs.extend(
            input
                .protected
                .iter()
                .map(|(key, value)| (key.clone(), SecretString::new(value.as_str()))),
        );
        let mut values: Vec<(&'static str, SecretString)> = Vec::new();
        for (key, value) in pairs {
            let known = known_key(&key, &keys::PROTECTED, &keys::PUBLIC, |key| {
                SettingsError::PublicInProtected { key }
            })
            .map_err(|error| match error {
                SettingsError::UnknownKey { key, suggestion } => {
                    SettingsError::UnknownProtectedKey {
                        shape: ValueShape::of(&key),
                        suggestion,
                    }
                }
                other => other,
            })?;
            values.retain(|(existing, _)| *existing != known);
            values.push((known, value));
        }
        if let Some(value) = from_config {
            if values
                .iter()
                .any(|(known, _)| *known == keys::CONNECTION_STRING)
            {
                return Err(SettingsError::Conflict {
                    first: format!("--config {}", keys::CONNECTION_STRING),
                    second: format!("the protected {}", keys::CONNECTION_STRING),
                    detail: "give the connection string once, preferably as a protected setting (it holds a credential)".to_owned(),
                });
            }
            values.push((keys::CONNECTION_STRING, value));
        }
        Ok(Self(values))
    }

    fn decode(self) -> Result<ProtectedSettings, SettingsError> {
        let mut settings = ProtectedSettings::default();
        for (key, value) in self.0 {
            let value = value.expose();
            let problem = |problem| SettingsError::ProtectedValue { key, problem };
            let pem = |kind| protected::decode_base64_pem(value, kind).map_err(problem);
            match key {
                keys::CONNECTION_STRING => {
                    settings.connection_string = Some(ConnectionString::parse(value)?);
                }
                keys::TLS_CRT => settings.tls_crt = Some(pem(PemKind::Certificates)?),
                keys::TLS_KEY => {
                    settings.tls_key = Some(SecretString::new(pem(PemKind::PrivateKey)?));
                }
                keys::TLS_CACRT => settings.tls_cacrt = Some(pem(PemKind::Certificates)?),
                _ => {
                    settings.tls_secret =
                        Some(protected::parse_secret_name(value).map_err(problem)?);
                }
            }
        }
        Ok(settings)
    }
}

/// Maps a user-typed key to its canonical name in `expected`, explaining keys that belong to the
/// other flag and suggesting the closest name for typos.
fn known_key(
    key: &str,
    expected: &[&'static str],
    other_flag: &[&'static str],
    misplaced: impl Fn(String) -> SettingsError,
) -> Result<&'static str, SettingsError> {
    if let Some(known) = expected.iter().find(|known| **known == key) {
        return Ok(known);
    }
    if let Some(other) = other_flag.iter().find(|other| **other == key) {
        return Err(misplaced((*other).to_owned()));
    }
    let all: Vec<&'static str> = expected.iter().chain(other_flag).copied().collect();
    Err(SettingsError::UnknownKey {
        key: key.to_owned(),
        suggestion: keys::closest(key, &all),
    })
}

fn parse_bool(key: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SettingsError::NotBoolean {
            key,
            value: value.to_owned(),
        }),
    }
}

fn parse_ip(key: &'static str, value: &str) -> Result<IpAddr, SettingsError> {
    let trimmed = value.trim();
    let reason = if trimmed.contains('/') {
        "give a single address, not a CIDR range".to_owned()
    } else if trimmed
        .rsplit_once(':')
        .is_some_and(|(host, _)| host.parse::<std::net::Ipv4Addr>().is_ok())
    {
        "give the address without a port".to_owned()
    } else {
        match trimmed.parse::<IpAddr>() {
            Ok(ip) => {
                return match unusable_as_service_ip(ip) {
                    None => Ok(ip),
                    Some(why) => Err(SettingsError::UnusableIp { key, ip, why }),
                };
            }
            Err(_) => {
                "expected an IPv4 address such as 192.100.100.1 or an IPv6 address".to_owned()
            }
        }
    };
    Err(SettingsError::NotIp {
        key,
        value: value.to_owned(),
        reason,
    })
}

/// Why `ip` can never be a Service's ClusterIP, if it cannot.
fn unusable_as_service_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("a multicast address"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("a loopback address"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("a multicast address"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .and_then(|v4| unusable_as_service_ip(v4.into())),
        IpAddr::V4(_) => None,
    }
}

/// Accepts the Kubernetes quantity forms a storage request uses: a decimal number with an optional
/// binary (Ki..Ei) or decimal (k..E) suffix.
fn parse_quantity(key: &'static str, value: &str) -> Result<String, SettingsError> {
    let trimmed = value.trim();
    let digits_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, suffix) = trimmed.split_at(digits_end);
    let number_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    let suffix_ok = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "k" | "M" | "G" | "T" | "P" | "E"
    );
    if number_ok && suffix_ok {
        Ok(trimmed.to_owned())
    } else {
        Err(SettingsError::NotQuantity {
            key,
            value: value.to_owned(),
        })
    }
}

/// `registryLoginServer`: a host name or an IP address, without scheme, port or path (the
/// Service listens on 443, and 80 with `httpEnabled`), lowercased.
fn parse_login_server(value: &str) -> Result<String, SettingsError> {
    let trimmed = value.trim();
    let refuse = |detail: &str| SettingsError::InvalidValue {
        key: keys::REGISTRY_LOGIN_SERVER.to_owned(),
        detail: format!("`{value}` {detail}"),
    };
    if trimmed.contains("://") || trimmed.contains('/') {
        return Err(refuse(
            "is not a host name: give the name alone, without scheme or path (registry.contoso.local)",
        ));
    }
    if let Ok(ip) = trimmed.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    if trimmed.contains(':') {
        return Err(refuse(
            "has a port: give the host name alone; the registry Service listens on 443 (and 80 with httpEnabled=true)",
        ));
    }
    let lowered = trimmed.to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if lowered.len() <= 253 && lowered.split('.').all(label_ok) {
        Ok(lowered)
    } else {
        Err(refuse(
            "is not a host name: labels of letters, digits and '-', separated by '.', at most 253 characters",
        ))
    }
}

/// `trustDistribution.useNodeSelector` (the current glossary's name, default false: every
/// node) or the older `trustDistribution.skipNodeSelector`, its inverse. Both given must agree.
fn resolve_use_node_selector(public: &PublicValues) -> Result<bool, SettingsError> {
    let skip = public
        .get(keys::TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR)
        .map(|value| parse_bool(keys::TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR, value))
        .transpose()?;
    let use_selector = public
        .get(keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR)
        .map(|value| parse_bool(keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR, value))
        .transpose()?;
    match (skip, use_selector) {
        (Some(skip), Some(use_selector)) if skip == use_selector => Err(SettingsError::Conflict {
            first: format!("{}={skip}", keys::TRUST_DISTRIBUTION_SKIP_NODE_SELECTOR),
            second: format!(
                "{}={use_selector}",
                keys::TRUST_DISTRIBUTION_USE_NODE_SELECTOR
            ),
            detail: "useNodeSelector is the inverse of skipNodeSelector; give only one".to_owned(),
        }),
        (_, Some(use_selector)) => Ok(use_selector),
        (Some(skip), None) => Ok(!skip),
        (None, None) => Ok(false),
    }
}

#[cfg(test)]
mod tests;
