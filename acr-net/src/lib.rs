//! The one HTTP stack for everything outside the cluster (policy modules over https, OCI
//! registries, the registry check, cert-manager's release manifests): reqwest's blocking client
//! on rustls with the aws-lc-rs provider, built in one place ([`HttpClient::new`]) so that every
//! request trusts the same roots, goes through the same proxies and keeps the same rules:
//!
//! - trust: the operating system's store (read by `rustls-native-certs`, which honours
//!   `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus the CAs of a PEM file (`--ca-file`), or exactly the
//!   CAs a caller names ([`Trust::Only`], for `verify --ca`);
//! - proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment (either
//!   case), for every request of every client ([`proxy`]: CIDR ranges, domains, ports in
//!   `NO_PROXY`; credentials in the proxy URL);
//! - one time limit per request, from connecting to the last byte of the answer;
//! - redirects: at most ten, and never from https to http;
//! - plain http only with [`ClientOptions::insecure_http`] (`--insecure-http`); without it a
//!   plain-http URL is refused before anything is sent, and an https request to a server that
//!   answers in plain HTTP says so and names the flag.

pub mod docker_credentials;
pub mod proxy;
pub mod registry_auth;

pub use proxy::{NoProxy, Proxy, percent_decode, proxy_for};

use reqwest::blocking::RequestBuilder;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use std::error::Error as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use reqwest::blocking::Response;
pub use reqwest::{Method, StatusCode, header};

/// The flag that allows plain-http registries, as both front ends spell it.
pub const INSECURE_HTTP_FLAG: &str = "--insecure-http";
/// How many redirects one request follows.
const MAX_REDIRECTS: usize = 10;
/// How much of an error answer is read to explain it.
const ERROR_BODY_LIMIT: u64 = 4096;

/// Which certificate authorities a client trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The operating system's trust store (or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), plus
    /// the CA certificates of a PEM file when given.
    System { ca_file: Option<PathBuf> },
    /// Exactly these CA certificates (DER), nothing else.
    Only(Vec<Vec<u8>>),
}

/// What a client is built from; the rest (proxies, redirects) is the same for every client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub trust: Trust,
    /// The limit of each request, from connecting to reading the whole answer.
    pub timeout: Duration,
    /// Allow plain `http://` URLs (`--insecure-http`); https is never redirected to http.
    pub insecure_http: bool,
}

impl ClientOptions {
    /// The system trust store plus `ca_file`, https only.
    pub fn system(ca_file: Option<PathBuf>, timeout: Duration) -> Self {
        Self {
            trust: Trust::System { ca_file },
            timeout,
            insecure_http: false,
        }
    }
}

/// Why a client cannot be built or a request got no usable answer; the text names the URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetError {
    #[error("cannot use the CA file {}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    #[error(
        "no CA certificate to trust: the system trust store is empty or unreadable{}; give one \
         with SSL_CERT_FILE or --ca-file",
        if detail.is_empty() { String::new() } else { format!(" ({detail})") }
    )]
    NoRoots { detail: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error(
        "{url} is plain http, which is refused: pass {INSECURE_HTTP_FLAG} to use a registry \
         without TLS (only on a network you trust)"
    )]
    PlainHttp { url: String },
    #[error(
        "{method} {url} failed: the server answers in plain HTTP, not TLS; pass \
         {INSECURE_HTTP_FLAG} to use it without TLS (only on a network you trust)"
    )]
    ServerSpeaksPlainHttp { method: String, url: String },
    #[error("{method} {url} failed: {detail}")]
    Transport {
        method: String,
        url: String,
        detail: String,
    },
    #[error("{url} is larger than {limit} bytes, the limit for {what}")]
    TooLarge {
        url: String,
        what: &'static str,
        limit: u64,
    },
}

/// A client built by [`HttpClient::new`]: cheap to clone, one connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::blocking::Client,
    insecure_http: bool,
}

impl HttpClient {
    /// The one place clients are built (see the [module documentation](self)).
    pub fn new(options: &ClientOptions) -> Result<Self, NetError> {
        let roots = root_store(&options.trust)?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| NetError::Client(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let insecure_http = options.insecure_http;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let downgrade = attempt.url().scheme() == "http"
                && (!insecure_http
                    || attempt
                        .previous()
                        .iter()
                        .any(|previous| previous.scheme() == "https"));
            if downgrade {
                attempt.error("refusing a redirect from https to plain http")
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .proxy(reqwest::Proxy::custom(|url| {
                proxy_for(url.scheme(), url.host_str()?, url.port_or_known_default()?)
                    .map(|proxy| proxy.url().to_owned())
            }))
            .tls_backend_preconfigured(tls)
            .redirect(redirects)
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("kubectl-acr/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| NetError::Client(error_chain(&error)))?;
        Ok(Self {
            client,
            insecure_http,
        })
    }

    /// Whether plain `http://` URLs are allowed.
    pub fn insecure_http(&self) -> bool {
        self.insecure_http
    }

    /// `GET url`.
    pub fn get(&self, url: &str) -> Result<Response, NetError> {
        self.send(Method::GET, url, |request| request)
    }

    /// Sends `method url` with what `build` adds (headers, body). Every status is an answer for
    /// the caller to judge; plain http is refused unless allowed.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, NetError> {
        if !self.insecure_http
            && url
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        {
            return Err(NetError::PlainHttp {
                url: url.to_owned(),
            });
        }
        build(self.client.request(method.clone(), url))
            .send()
            .map_err(|error| transport_error(method.as_str(), url, &error))
    }
}

/// The error of a request that got no answer, with the whole chain of causes; a TLS request
/// answered in plain HTTP is named as such.
fn transport_error(method: &str, url: &str, error: &reqwest::Error) -> NetError {
    if causes(error).any(|cause| {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidMessage(_))
        )
    }) {
        return NetError::ServerSpeaksPlainHttp {
            method: method.to_owned(),
            url: url.to_owned(),
        };
    }
    NetError::Transport {
        method: method.to_owned(),
        url: url.to_owned(),
        detail: if error.is_timeout() {
            format!("timed out ({})", error_chain(error))
        } else {
            error_chain(error)
        },
    }
}

/// `error` and its causes, looking inside `io::Error`s too (whose `source` skips what they
/// wrap).
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |&current| {
        match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        }
    })
}

/// The causes of `error` joined by `: `, without reqwest's own "error sending request for url"
/// (the caller names the request) and without repeating a cause its wrapper already shows.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// The roots `trust` names, for this stack and for callers that shake hands themselves (the
/// registry check's TLS step).
pub fn root_store(trust: &Trust) -> Result<rustls::RootCertStore, NetError> {
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        Trust::Only(cas) => {
            for der in cas {
                add_root(&mut roots, CertificateDer::from(der.clone()))
                    .map_err(|reason| NetError::Client(format!("a CA certificate: {reason}")))?;
            }
        }
        Trust::System { ca_file } => {
            let (system, detail) = system_roots();
            for der in system {
                // One unusable certificate in the system store does not make the others unusable.
                let _ = add_root(&mut roots, der.clone());
            }
            if let Some(path) = ca_file {
                for der in read_ca_file(path)? {
                    add_root(&mut roots, der).map_err(|reason| NetError::CaFile {
                        path: path.clone(),
                        reason,
                    })?;
                }
            }
            if roots.is_empty() {
                return Err(NetError::NoRoots {
                    detail: detail.clone(),
                });
            }
        }
    }
    Ok(roots)
}

fn add_root(roots: &mut rustls::RootCertStore, der: CertificateDer<'_>) -> Result<(), String> {
    roots.add(der).map_err(|error| error.to_string())
}

/// The system store, read once per process: the certificates and what could not be read.
fn system_roots() -> &'static (Vec<CertificateDer<'static>>, String) {
    static SYSTEM: OnceLock<(Vec<CertificateDer<'static>>, String)> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        let detail = loaded
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        (loaded.certs, detail)
    })
}

/// The certificates of a PEM file (other PEM items are skipped); one at least.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let ca_file_error = |reason: String| NetError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = acr_io::read(path, acr_io::InputKind::Certificate)
        .map_err(|error| ca_file_error(error.to_string()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ca_file_error(error.to_string()))?;
    if certificates.is_empty() {
        return Err(ca_file_error("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

/// Reads the whole body of `response`, refusing more than `limit` bytes (as announced by
/// `Content-Length`, or as sent).
pub fn read_body(
    response: Response,
    url: &str,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, NetError> {
    let too_large = || NetError::TooLarge {
        url: url.to_owned(),
        what,
        limit,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    response
        .take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|error| NetError::Transport {
            method: "reading the body of".to_owned(),
            url: url.to_owned(),
            detail: error.to_string(),
        })?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
        return Err(too_large());
    }
    Ok(body)
}

/// The registry error codes, or the first line of text, of an error answer; empty when it has
/// none.
pub fn error_detail(response: Response) -> String {
    let mut body = Vec::new();
    let _ = response.take(ERROR_BODY_LIMIT).read_to_end(&mut body);
    explain_error_body(&body)
}

/// The `errors` of an OCI distribution error answer as `CODE: message` lines joined by `; `,
/// or the answer's first line of text.
pub fn explain_error_body(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorAnswer {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(answer) = serde_json::from_slice::<ErrorAnswer>(body) {
        return answer
            .errors
            .iter()
            .map(|error| format!("{}: {}", error.code, error.message))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    let first_line = text.lines().map(str::trim).find(|line| !line.is_empty());
    first_line.unwrap_or_default().chars().take(200).collect()
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for query values.
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::TcpListener;

    fn client(insecure_http: bool) -> HttpClient {
        HttpClient::new(&ClientOptions {
            insecure_http,
            ..ClientOptions::system(None, Duration::from_secs(5))
        })
        .expect("client")
    }

    /// A server answering each connection with `answer` (a whole HTTP/1.1 response); returns its
    /// address.
    fn answering(answer: String) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                let _ = (&stream).write_all(answer.as_bytes());
            }
        });
        address
    }

    #[test]
    fn plain_http_is_refused_before_connecting_unless_allowed() {
        let address = answering(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_owned(),
        );
        let url = format!("http://{address}/v2/");
        assert_eq!(
            client(false).get(&url).expect_err("refused").to_string(),
            format!(
                "{url} is plain http, which is refused: pass --insecure-http to use a registry \
                 without TLS (only on a network you trust)"
            )
        );
        let response = client(true).get(&url).expect("allowed");
        assert_eq!(
            read_body(response, &url, 16, "a test").expect("body"),
            b"ok"
        );
    }

    #[test]
    fn a_plain_http_server_asked_for_tls_is_named_with_the_flag() {
        // What an HTTP server answers to the bytes of a TLS ClientHello.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        let url = format!("https://{address}/v2/");
        let error = client(false).get(&url).expect_err("no TLS");
        assert_eq!(
            error.to_string(),
            format!(
                "GET {url} failed: the server answers in plain HTTP, not TLS; pass \
                 --insecure-http to use it without TLS (only on a network you trust)"
            )
        );
    }

    #[test]
    fn redirects_to_plain_http_are_refused_even_when_plain_http_is_allowed() {
        let target = answering(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_owned(),
        );
        let redirecting = answering(format!(
            "HTTP/1.1 302 Found\r\nLocation: http://{target}/x\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        ));
        // http -> http is followed when allowed (the https -> http case needs a TLS server: see
        // the policy sources' tests).
        let url = format!("http://{redirecting}/");
        assert_eq!(
            client(true).get(&url).expect("followed").status(),
            StatusCode::OK
        );
        let error = client(false).get(&url).expect_err("refused");
        assert!(matches!(error, NetError::PlainHttp { .. }), "{error}");
    }

    #[test]
    fn bodies_over_the_limit_are_refused() {
        let address =
            answering("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789".to_owned());
        let url = format!("http://{address}/");
        let response = client(true).get(&url).expect("answer");
        assert_eq!(
            read_body(response, &url, 4, "a test")
                .expect_err("too large")
                .to_string(),
            format!("{url} is larger than 4 bytes, the limit for a test")
        );
    }

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not pem").expect("write");
        assert_eq!(
            read_ca_file(&path).expect_err("empty").to_string(),
            format!(
                "cannot use the CA file {}: it holds no PEM certificate",
                path.display()
            )
        );
    }

    #[test]
    fn error_answers_are_summarised() {
        assert_eq!(
            explain_error_body(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}},{"code":"DENIED","message":"no"}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown; DENIED: no"
        );
        assert_eq!(explain_error_body(b"\n  not found \nmore"), "not found");
        assert_eq!(explain_error_body(b""), "");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            percent_encode("repository:policies/x:pull,push"),
            "repository%3Apolicies%2Fx%3Apull%2Cpush"
        );
        assert_eq!(percent_encode("a-b_c.d~é"), "a-b_c.d~%C3%A9");
    }
}
