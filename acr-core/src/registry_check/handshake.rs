//! The `tls` step: a rustls handshake (aws-lc-rs) trusting the given CAs or the system trust
//! store (the roots `acr-net` trusts for every request),
//! through a verifier that records the presented chain and what rustls' WebPKI verifier
//! thought of it, so the chain is reported even when validation fails. A server that answers
//! in plain HTTP is recognised and named.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, Error};
use time::OffsetDateTime;

use acr_net::Trust;

use super::endpoint::Endpoint;
use super::report::{PresentedCertificate, StepResult, TlsStep};
use crate::tls::{self, CertificateInfo};

/// How the trust in use is named in the step's reason.
fn describe(trust: &Trust) -> &'static str {
    match trust {
        Trust::Only(_) => "the given CA certificates",
        Trust::System { .. } => "the system trust store",
    }
}

/// What the verifier saw: the chain and rustls' verdict on it.
#[derive(Debug, Default)]
struct Seen {
    chain: Vec<Vec<u8>>,
    verdict: Option<Result<(), Error>>,
}

/// Delegates to [`WebPkiServerVerifier`] at the check's time, recording chain and verdict.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    now: UnixTime,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            self.now,
        );
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| der.to_vec())
            .collect();
        seen.verdict = Some(verdict.as_ref().map(|_| ()).map_err(Clone::clone));
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Connects to the first reachable address and shakes hands as a client would.
pub(crate) fn tls_step(
    endpoint: &Endpoint,
    addresses: &[std::net::IpAddr],
    trust: &Trust,
    timeout: Duration,
    now: OffsetDateTime,
) -> TlsStep {
    let mut step = TlsStep {
        result: StepResult::fail(String::new()),
        address: None,
        protocol: None,
        chain_valid: None,
        chain: Vec::new(),
    };
    // One budget for the whole step (connecting, the handshake, the plain-HTTP probe), so that
    // the step never takes longer than `--timeout`.
    let deadline = Deadline::after(timeout);
    let (route, stream) = match acr_net::proxy_for("https", &endpoint.host, endpoint.port) {
        Some(proxy) => {
            let route = Route::Proxy(proxy);
            match route.connect(endpoint, deadline) {
                Ok(stream) => {
                    step.address = Some(format!("{endpoint} through {}", route.describe()));
                    (route, stream)
                }
                Err(error) => {
                    step.result = StepResult::fail(format!(
                        "cannot connect through {}: {error}",
                        route.describe()
                    ));
                    return step;
                }
            }
        }
        None => {
            let mut connect_errors = Vec::new();
            let mut connected = None;
            for ip in addresses {
                let route = Route::Direct(SocketAddr::new(*ip, endpoint.port));
                match route.connect(endpoint, deadline) {
                    Ok(stream) => {
                        step.address = Some(route.describe());
                        connected = Some((route, stream));
                        break;
                    }
                    Err(error) => connect_errors.push(format!("{}: {error}", route.describe())),
                }
            }
            let Some(connected) = connected else {
                step.result =
                    StepResult::fail(format!("cannot connect: {}", connect_errors.join("; ")));
                return step;
            };
            connected
        }
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let handshake = handshake(endpoint, stream, trust, deadline, now, &seen);
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
    step.chain = seen
        .chain
        .iter()
        .filter_map(|der| tls::describe(der, now).ok())
        .map(presented)
        .collect();
    let trusted_by = describe(trust);
    match (handshake, seen.verdict) {
        (Ok(protocol), _) => {
            step.chain_valid = Some(true);
            step.result = StepResult::pass(format!(
                "{protocol}; the presented chain is valid and trusted by {trusted_by}"
            ));
            step.protocol = Some(protocol);
        }
        (Err(_), Some(Err(Error::InvalidCertificate(error)))) if is_name_error(&error) => {
            step.chain_valid = Some(true);
            step.result = StepResult::pass(format!(
                "the presented chain is valid and trusted by {trusted_by}; the handshake stopped \
                 at the name check (see san)"
            ));
        }
        (Err(_), Some(Err(Error::InvalidCertificate(error)))) => {
            step.chain_valid = Some(false);
            step.result = StepResult::fail(certificate_problem(&error, trusted_by, &step.chain));
        }
        (Err(error), _) => {
            step.result = StepResult::fail(match speaks_plain_http(&route, endpoint, deadline) {
                true => format!(
                    "the server answered in plain HTTP; clients expect TLS on {endpoint}: serve \
                     TLS there (the registry's http.tls settings) or give the TLS port"
                ),
                false => format!("the TLS handshake failed: {error}"),
            });
        }
    }
    step
}

fn presented(info: CertificateInfo) -> PresentedCertificate {
    PresentedCertificate {
        subject: info.subject,
        issuer: info.issuer,
        not_after: info.not_after,
        expired: info.expired,
        subject_alt_names: info.subject_alt_names,
    }
}

fn is_name_error(error: &CertificateError) -> bool {
    matches!(
        error,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
    )
}

/// The reason a chain failed validation, in words a person acts on.
fn certificate_problem(
    error: &CertificateError,
    trusted_by: &str,
    chain: &[PresentedCertificate],
) -> String {
    let top_issuer = chain.last().map_or("(none)", |cert| cert.issuer.as_str());
    match error {
        CertificateError::UnknownIssuer => format!(
            "unknown issuer: the chain ends at a certificate issued by {top_issuer}, which is \
             not among {trusted_by} (give the CA that signed it with --ca, or have the server \
             send its intermediates)"
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let expired: Vec<&str> = chain
                .iter()
                .filter(|cert| cert.expired)
                .map(|cert| cert.subject.as_str())
                .collect();
            format!(
                "expired: {} (renew the certificate)",
                if expired.is_empty() {
                    "a certificate of the chain".to_owned()
                } else {
                    expired.join(", ")
                }
            )
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet: a certificate of the chain starts later (check the clocks)".to_owned()
        }
        CertificateError::BadSignature => format!(
            "bad signature: {top_issuer} among {trusted_by} has the issuer's name but not its \
             key, so it is another CA of the same name (regenerated?): give the CA that signed \
             this certificate with --ca"
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "invalid purpose: the certificate is not for TLS servers (extendedKeyUsage lacks \
             serverAuth)"
                .to_owned()
        }
        other => format!("the chain is not valid: {other}"),
    }
}

/// When the TLS step must be over, and the budget it was given.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            budget,
        }
    }

    fn passed(self) -> bool {
        Instant::now() >= self.at
    }

    /// What is left, at least a millisecond (a zero socket timeout means none at all).
    fn remaining(self) -> Duration {
        self.at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }

    /// The budget in seconds, for messages.
    fn budget_secs(self) -> f64 {
        self.budget.as_secs_f64()
    }
}

/// Sets up rustls and completes the handshake; returns the protocol version.
fn handshake(
    endpoint: &Endpoint,
    mut stream: TcpStream,
    trust: &Trust,
    deadline: Deadline,
    now: OffsetDateTime,
    seen: &Arc<Mutex<Seen>>,
) -> Result<String, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(
        Arc::new(acr_net::root_store(trust).map_err(|error| Error::General(error.to_string()))?),
        provider.clone(),
    )
    .build()
    .map_err(|error| Error::General(error.to_string()))?;
    let verifier = RecordingVerifier {
        inner,
        now: UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(now.unix_timestamp()).unwrap_or_default(),
        )),
        seen: Arc::clone(seen),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let server_name = ServerName::try_from(endpoint.host.clone())
        .map_err(|error| Error::General(error.to_string()))?;
    let mut connection = ClientConnection::new(Arc::new(config), server_name)?;
    let io_error = |error: std::io::Error| match error.into_inner() {
        Some(inner) => match inner.downcast::<Error>() {
            Ok(tls) => *tls,
            Err(other) => Error::General(other.to_string()),
        },
        None => Error::General("the connection failed".to_owned()),
    };
    while connection.is_handshaking() {
        if deadline.passed() {
            return Err(Error::General(format!(
                "no TLS answer within {}s",
                deadline.budget_secs()
            )));
        }
        stream
            .set_read_timeout(Some(deadline.remaining()))
            .and_then(|()| stream.set_write_timeout(Some(deadline.remaining())))
            .map_err(|error| Error::General(error.to_string()))?;
        match connection.complete_io(&mut stream) {
            Ok((0, 0)) if connection.is_handshaking() => {
                return Err(Error::General(
                    "the server closed the connection during the handshake".to_owned(),
                ));
            }
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::General(format!(
                    "no TLS answer within {}s",
                    deadline.budget_secs()
                )));
            }
            Err(error) => return Err(io_error(error)),
        }
    }
    connection.send_close_notify();
    let _ = connection.complete_io(&mut stream);
    Ok(match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "TLS".to_owned(),
    })
}

/// How the TLS connection reaches the server: directly, or through the proxy the rest of the
/// HTTP stack uses for it (`acr_net::proxy_for`), with an HTTP `CONNECT` tunnel that carries the
/// proxy URL's credentials ([`acr_net::Proxy::tunnel`]).
enum Route {
    Direct(SocketAddr),
    Proxy(acr_net::Proxy),
}

impl Route {
    /// How the step's report names the route; never a proxy's credentials.
    fn describe(&self) -> String {
        match self {
            Route::Direct(address) => address.to_string(),
            Route::Proxy(proxy) => format!("the proxy {}", proxy.authority()),
        }
    }

    fn connect(&self, endpoint: &Endpoint, deadline: Deadline) -> std::io::Result<TcpStream> {
        match self {
            Route::Direct(address) => TcpStream::connect_timeout(address, deadline.remaining()),
            Route::Proxy(proxy) => {
                let stream = proxy.tunnel(&endpoint.to_string(), deadline.remaining())?;
                stream.set_read_timeout(Some(deadline.remaining()))?;
                Ok(stream)
            }
        }
    }
}

/// Whether the server answers a plain HTTP request on a fresh connection with HTTP.
fn speaks_plain_http(route: &Route, endpoint: &Endpoint, deadline: Deadline) -> bool {
    if deadline.passed() {
        return false;
    }
    let Ok(mut stream) = route.connect(endpoint, deadline) else {
        return false;
    };
    let request = format!(
        "GET /v2/ HTTP/1.1\r\nHost: {endpoint}\r\nConnection: close\r\nUser-Agent: acr-core\r\n\r\n"
    );
    let mut answer = [0u8; 5];
    stream.set_read_timeout(Some(deadline.remaining())).is_ok()
        && stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"HTTP/"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that accepts and never answers: the step gives up at the timeout, not at twice
    /// it (the handshake and the plain-HTTP probe used to wait a full timeout each).
    #[test]
    fn a_silent_server_costs_one_timeout_in_all() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let endpoint = Endpoint::parse(&format!("127.0.0.1:{port}")).expect("endpoint");
        let started = Instant::now();
        let step = tls_step(
            &endpoint,
            &[std::net::IpAddr::from([127, 0, 0, 1])],
            &Trust::System { ca_file: None },
            Duration::from_millis(800),
            OffsetDateTime::UNIX_EPOCH,
        );
        let elapsed = started.elapsed();
        assert!(!step.result.passed());
        assert!(
            step.result.reason.contains("no TLS answer within 0.8s"),
            "{}",
            step.result.reason
        );
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
        drop(listener);
    }
}
