//! Checking a registry endpoint the way an image pull meets it, step by step: resolve the host,
//! shake hands over TLS and validate the presented chain, match the certificate's names, call
//! `GET /v2/`, and with credentials complete the Docker registry authentication (Basic, or a
//! Bearer token from the challenge's realm). Every step reports pass, fail or skipped with a
//! reason; a failed step skips those that need it.

mod endpoint;
mod handshake;
mod http;
mod report;

use std::net::{IpAddr, ToSocketAddrs as _};
use std::sync::mpsc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::secret::SecretString;
use crate::tls::{self, SubjectAltNames, TlsError};

pub use endpoint::Endpoint;
pub use report::{
    AuthStep, Challenge, GrantedAccess, PresentedCertificate, RegistryReport, ResolveStep, SanStep,
    StepOutcome, StepResult, TlsStep, V2Step,
};

use acr_net::{ClientOptions, HttpClient, Trust};

/// How long each network step may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A user name and password for the registry (or its token service).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: SecretString,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct RegistryCheckRequest {
    /// `HOST[:PORT]` (port 443 by default).
    pub server: String,
    /// The CA certificates to trust (PEM, DER or any form `tls::load_certificates` reads);
    /// `None` trusts the system trust store (or `SSL_CERT_FILE`).
    pub ca: Option<Vec<u8>>,
    pub credentials: Option<Credentials>,
    /// The limit of each network step.
    pub timeout: Duration,
    /// The time certificates are validated at.
    pub now: OffsetDateTime,
}

impl RegistryCheckRequest {
    /// A request for `server` trusting the system trust store, without credentials, at `now`.
    pub fn new(server: impl Into<String>, now: OffsetDateTime) -> Self {
        Self {
            server: server.into(),
            ca: None,
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            now,
        }
    }
}

/// A request that cannot be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum RegistryCheckError {
    #[error("`{server}` is not a registry endpoint: {reason}")]
    InvalidServer { server: String, reason: String },
    #[error("the CA certificates cannot be read")]
    Ca(#[source] TlsError),
}

/// Runs every step against the endpoint.
pub fn check(request: &RegistryCheckRequest) -> Result<RegistryReport, RegistryCheckError> {
    let endpoint = Endpoint::parse(&request.server)?;
    let trust = match &request.ca {
        Some(input) => Trust::Only(
            tls::load_certificates(input)
                .map_err(RegistryCheckError::Ca)?
                .certificates
                .into_iter()
                .map(|certificate| certificate.der)
                .collect(),
        ),
        None => Trust::System { ca_file: None },
    };
    let resolve = resolve_step(&endpoint, request.timeout);
    let tls = if resolve.result.passed() {
        handshake::tls_step(
            &endpoint,
            &resolve.addresses,
            &trust,
            request.timeout,
            request.now,
        )
    } else {
        TlsStep {
            result: StepResult::skipped("the host did not resolve"),
            address: None,
            protocol: None,
            chain_valid: None,
            chain: Vec::new(),
        }
    };
    let san = san_step(&endpoint, &tls);
    let (v2, auth) = if tls.result.passed() && san.result.passed() {
        let client = HttpClient::new(&ClientOptions {
            trust,
            timeout: request.timeout,
            insecure_http: false,
        });
        let v2 = http::v2_step(client.as_ref(), &endpoint);
        let auth = match (&request.credentials, &v2.challenge) {
            (None, _) => skipped_auth("no credentials were given"),
            (Some(_), _) if !v2.result.passed() => skipped_auth("the v2 step failed"),
            (Some(_), None) => skipped_auth("the registry asked for no credentials"),
            (Some(credentials), Some(challenge)) => {
                http::auth_step(client.as_ref(), &endpoint, challenge, credentials)
            }
        };
        (v2, auth)
    } else {
        let reason = "clients refuse this TLS connection (see tls and san)";
        (
            V2Step {
                result: StepResult::skipped(reason),
                status: None,
                challenge: None,
            },
            skipped_auth(reason),
        )
    };
    let mut report = RegistryReport {
        server: endpoint.to_string(),
        passed: false,
        resolve,
        tls,
        san,
        v2,
        auth,
    };
    report.passed = report
        .steps()
        .iter()
        .all(|(_, result)| result.outcome != StepOutcome::Fail);
    Ok(report)
}

fn skipped_auth(reason: &str) -> AuthStep {
    AuthStep {
        result: StepResult::skipped(reason),
        scheme: None,
        requested_scope: None,
        granted: None,
    }
}

/// Resolves the host with the system resolver, giving up after `timeout`.
fn resolve_step(endpoint: &Endpoint, timeout: Duration) -> ResolveStep {
    if acr_net::proxy_for("https", &endpoint.host, endpoint.port).is_some() {
        return ResolveStep {
            result: StepResult::pass(format!(
                "{} is reached through the proxy of HTTPS_PROXY, which resolves it",
                endpoint.host
            )),
            addresses: Vec::new(),
        };
    }
    if let Some(ip) = endpoint.ip() {
        return ResolveStep {
            result: StepResult::pass(format!("{ip} is an IP address: nothing to resolve")),
            addresses: vec![ip],
        };
    }
    let (sender, receiver) = mpsc::channel();
    let target = (endpoint.host.clone(), endpoint.port);
    // getaddrinfo cannot be cancelled: a resolver that hangs is left behind, and reported.
    std::thread::spawn(move || {
        let _ = sender.send(target.to_socket_addrs().map(|addresses| {
            let mut ips: Vec<IpAddr> = Vec::new();
            for address in addresses {
                if !ips.contains(&address.ip()) {
                    ips.push(address.ip());
                }
            }
            ips
        }));
    });
    let (result, addresses) = match receiver.recv_timeout(timeout) {
        Ok(Ok(ips)) if !ips.is_empty() => (
            StepResult::pass(format!(
                "{} resolves to {}",
                endpoint.host,
                ips.iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ips,
        ),
        Ok(Ok(_)) => (
            StepResult::fail(format!("{} resolves to no address", endpoint.host)),
            Vec::new(),
        ),
        Ok(Err(error)) => (
            StepResult::fail(format!("{} does not resolve: {error}", endpoint.host)),
            Vec::new(),
        ),
        Err(_) => (
            StepResult::fail(format!(
                "{} did not resolve within {}s",
                endpoint.host,
                timeout.as_secs_f64()
            )),
            Vec::new(),
        ),
    };
    ResolveStep { result, addresses }
}

/// Whether the leaf certificate's subjectAltNames cover the host (RFC 6125 for names).
fn san_step(endpoint: &Endpoint, tls: &TlsStep) -> SanStep {
    let host = endpoint.host.clone();
    let Some(leaf) = tls.chain.first() else {
        return SanStep {
            result: StepResult::skipped("no certificate was presented"),
            host,
        };
    };
    let sans: &SubjectAltNames = &leaf.subject_alt_names;
    let (covered, what, flag) = match endpoint.ip() {
        Some(ip) => (sans.covers_ip(ip), format!("IP {ip}"), "--ip"),
        None => (sans.covers_dns(&host), format!("DNS name {host}"), "--dns"),
    };
    let result = if covered {
        StepResult::pass(format!(
            "the certificate's subjectAltNames ({}) cover {what}",
            sans.summary()
        ))
    } else {
        StepResult::fail(format!(
            "the certificate's subjectAltNames ({}) do not cover {what}, so clients refuse it: \
             reissue it with {flag} {host} (kubectl acr cert generate), or connect by a name it \
             covers",
            sans.summary()
        ))
    };
    SanStep { result, host }
}
