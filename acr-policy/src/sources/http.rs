//! The blocking HTTPS client of the policy sources: ureq on rustls with the aws-lc-rs provider,
//! trusting Mozilla's roots or exactly the CAs of a given file, and bodies read under a cap.

use super::{RemoteError, SourceOptions};
use std::path::Path;
use std::sync::Arc;
use ureq::http::{Response, header};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Body};

/// How much of an error answer is read to explain it.
const ERROR_BODY_LIMIT: u64 = 4096;

/// An agent for `options`: rustls trusting the options' CA file or the Mozilla roots, the
/// options' timeout, and every status returned as an answer for the caller to judge.
pub(crate) fn agent(options: &SourceOptions) -> Result<Agent, RemoteError> {
    let root_certs = match &options.ca_file {
        Some(path) => RootCerts::Specific(Arc::new(read_ca_file(path)?)),
        None => RootCerts::WebPki,
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(root_certs)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    Ok(Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        // Every request and every redirect it follows stays on https: an https source that
        // redirects to http is refused, not followed.
        .https_only(true)
        .timeout_global(Some(options.timeout))
        .user_agent(concat!("acr-policy/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent())
}

fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, RemoteError> {
    let ca_file_error = |reason: String| RemoteError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = acr_io::read(path, acr_io::InputKind::Certificate)
        .map_err(|error| ca_file_error(error.to_string()))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(error) => return Err(ca_file_error(error.to_string())),
        }
    }
    if certificates.is_empty() {
        return Err(ca_file_error("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

/// The transport error of a request that got no answer.
pub(crate) fn transport_error(method: &str, url: &str, error: ureq::Error) -> RemoteError {
    RemoteError::Transport {
        method: method.to_owned(),
        url: url.to_owned(),
        error: Arc::new(error),
    }
}

/// Reads the whole body of `response`, refusing more than `limit` bytes (as announced by
/// `Content-Length`, or as sent).
pub(crate) fn read_body(
    response: &mut Response<Body>,
    url: &str,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, RemoteError> {
    let too_large = || RemoteError::TooLarge {
        url: url.to_owned(),
        what,
        limit,
    };
    let announced = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|error| match error {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            error => transport_error("reading the body of", url, error),
        })
}

/// The error for an unexpected status, with the registry's error codes or the start of the
/// answer's text to explain it.
pub(crate) fn status_error(method: &str, url: &str, response: &mut Response<Body>) -> RemoteError {
    let body = response
        .body_mut()
        .with_config()
        .limit(ERROR_BODY_LIMIT)
        .read_to_vec()
        .unwrap_or_default();
    RemoteError::Status {
        method: method.to_owned(),
        url: url.to_owned(),
        status: response.status().as_u16(),
        detail: explain_error_body(&body),
    }
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

    /// A plain HTTP peer is there to answer, yet the agent never asks it: a redirect from https
    /// lands on the same check.
    #[test]
    fn plain_http_is_refused_even_when_a_server_answers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/policy.wasm",
            listener.local_addr().expect("address")
        );
        let agent = agent(&SourceOptions::default()).expect("agent");
        let error = agent.get(&url).call().expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!("configured for https only: {url}")
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
