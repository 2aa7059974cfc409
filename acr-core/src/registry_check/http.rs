//! The `v2` and `auth` steps over HTTPS (ureq on rustls, trusting what the `tls` step trusted):
//! `GET /v2/`, then the Docker registry authentication its challenge asks for: Basic
//! credentials, or a Bearer token from the realm fetched with them.

use std::sync::Arc;
use std::time::Duration;

use acr_policy::sources::{explain_error_body, parse_challenge, percent_encode};
use base64::Engine as _;
use ureq::http::{Response, StatusCode, header};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Body};

use super::Credentials;
use super::endpoint::Endpoint;
use super::handshake::Trust;
use super::report::{AuthStep, Challenge, GrantedAccess, StepResult, V2Step};

/// How much of an answer is read (token answers, error texts).
const BODY_LIMIT: u64 = 64 * 1024;

/// An agent trusting exactly what the `tls` step trusted, answering every status.
pub(crate) fn agent(trust: &Trust, timeout: Duration) -> Agent {
    let roots = match trust {
        Trust::Cas(cas) => RootCerts::Specific(Arc::new(
            cas.iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect(),
        )),
        Trust::WebPkiRoots => RootCerts::WebPki,
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(concat!("acr-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// `GET /v2/`: 200 passes; 401 with a challenge passes and records it.
pub(crate) fn v2_step(agent: &Agent, endpoint: &Endpoint) -> V2Step {
    let url = endpoint.url("/v2/");
    let mut response = match agent.get(&url).call() {
        Ok(response) => response,
        Err(error) => {
            return V2Step {
                result: StepResult::fail(format!("GET {url} failed: {error}")),
                status: None,
                challenge: None,
            };
        }
    };
    let status = response.status();
    let challenge = challenge_of(&response);
    let result = match (status, &challenge) {
        (StatusCode::OK, _) => StepResult::pass(format!(
            "GET {url} answered 200: no authentication is needed"
        )),
        (StatusCode::UNAUTHORIZED, Some(challenge)) => StepResult::pass(format!(
            "GET {url} answered 401: authentication required ({})",
            challenge_text(challenge)
        )),
        (StatusCode::UNAUTHORIZED, None) => StepResult::fail(format!(
            "GET {url} answered 401 without a WWW-Authenticate challenge, which registry \
             clients cannot answer"
        )),
        (other, _) => StepResult::fail(format!(
            "GET {url} answered {}{}: a registry answers /v2/ with 200 or 401 (is this the \
             registry's port?)",
            other.as_u16(),
            error_text(&mut response)
        )),
    };
    V2Step {
        result,
        status: Some(status.as_u16()),
        challenge,
    }
}

fn challenge_of(response: &Response<Body>) -> Option<Challenge> {
    let value = response
        .headers()
        .get(header::WWW_AUTHENTICATE)?
        .to_str()
        .ok()?;
    let (scheme, mut parameters) = parse_challenge(value);
    Some(Challenge {
        scheme: scheme.to_owned(),
        realm: parameters.remove("realm"),
        service: parameters.remove("service"),
        scope: parameters.remove("scope"),
    })
}

fn challenge_text(challenge: &Challenge) -> String {
    let mut text = format!("{} challenge", challenge.scheme);
    for (name, value) in [
        ("realm", &challenge.realm),
        ("service", &challenge.service),
        ("scope", &challenge.scope),
    ] {
        if let Some(value) = value {
            text.push_str(&format!(", {name} {value}"));
        }
    }
    text
}

/// `: CODE: message` from the answer's registry errors or first line; empty when it has none.
fn error_text(response: &mut Response<Body>) -> String {
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .unwrap_or_default();
    let detail = explain_error_body(&body);
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// The `auth` step: answers the challenge with the credentials and retries `GET /v2/`.
pub(crate) fn auth_step(
    agent: &Agent,
    endpoint: &Endpoint,
    challenge: &Challenge,
    credentials: &Credentials,
) -> AuthStep {
    let mut step = AuthStep {
        result: StepResult::fail(String::new()),
        scheme: Some(challenge.scheme.clone()),
        requested_scope: challenge.scope.clone(),
        granted: None,
    };
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            credentials.username,
            credentials.password.expose()
        ))
    );
    let user = &credentials.username;
    let authorization = match challenge.scheme.to_ascii_lowercase().as_str() {
        "basic" => basic,
        "bearer" => match bearer_token(agent, challenge, &basic, user) {
            Ok(token) => {
                step.granted = granted_access(&token);
                format!("Bearer {token}")
            }
            Err(reason) => {
                step.result = StepResult::fail(reason);
                return step;
            }
        },
        other => {
            step.result = StepResult::fail(format!(
                "the registry asks for {other} authentication, which registry clients do not \
                 speak (Basic or Bearer)"
            ));
            return step;
        }
    };
    let url = endpoint.url("/v2/");
    let mut response = match agent
        .get(&url)
        .header(header::AUTHORIZATION, &authorization)
        .call()
    {
        Ok(response) => response,
        Err(error) => {
            step.result = StepResult::fail(format!("GET {url} failed: {error}"));
            return step;
        }
    };
    step.result = match response.status() {
        StatusCode::OK => StepResult::pass(accepted_text(challenge, user, step.granted.as_deref())),
        status => StepResult::fail(format!(
            "the registry refused the {} credentials of `{user}`: GET {url} answered {}{}",
            challenge.scheme,
            status.as_u16(),
            error_text(&mut response)
        )),
    };
    step
}

fn accepted_text(challenge: &Challenge, user: &str, granted: Option<&[GrantedAccess]>) -> String {
    if !challenge.scheme.eq_ignore_ascii_case("bearer") {
        return format!("the registry accepted the Basic credentials of `{user}`");
    }
    let grants = match (granted, &challenge.scope) {
        (Some([]), _) => "the token grants no repository access (none was asked)".to_owned(),
        (Some(granted), _) => format!(
            "the token grants {}",
            granted
                .iter()
                .map(GrantedAccess::scope)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        (None, Some(scope)) => format!("requested scope {scope} (the token does not list it)"),
        (None, None) => "no scope was requested".to_owned(),
    };
    format!(
        "the token service {} issued a token for `{user}` that the registry accepted; {grants}",
        challenge.realm.as_deref().unwrap_or_default()
    )
}

/// Fetches a token from the challenge's realm with Basic credentials.
fn bearer_token(
    agent: &Agent,
    challenge: &Challenge,
    basic: &str,
    user: &str,
) -> Result<String, String> {
    let realm = challenge
        .realm
        .as_deref()
        .ok_or("the Bearer challenge names no realm to get a token from")?;
    if !realm.starts_with("https://") {
        return Err(format!(
            "the token realm {realm} is not https: the credentials would travel in clear text, \
             so they were not sent"
        ));
    }
    let query: Vec<String> = [("service", &challenge.service), ("scope", &challenge.scope)]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|value| format!("{name}={}", percent_encode(value)))
        })
        .collect();
    let url = match (query.is_empty(), realm.contains('?')) {
        (true, _) => realm.to_owned(),
        (false, true) => format!("{realm}&{}", query.join("&")),
        (false, false) => format!("{realm}?{}", query.join("&")),
    };
    let mut response = agent
        .get(&url)
        .header(header::AUTHORIZATION, basic)
        .call()
        .map_err(|error| format!("GET {url} (the token realm) failed: {error}"))?;
    if response.status() != StatusCode::OK {
        return Err(format!(
            "the token service refused the credentials of `{user}`: GET {url} answered {}{}",
            response.status().as_u16(),
            error_text(&mut response)
        ));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|error| format!("reading the answer of {url} failed: {error}"))?;
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let answer: TokenAnswer = serde_json::from_slice(&body)
        .map_err(|error| format!("the token service {url} answered no token JSON: {error}"))?;
    answer
        .token
        .or(answer.access_token)
        .filter(|token| !token.is_empty() && token.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| format!("the token service {url} answered no usable token"))
}

/// The `access` claim of a JWT's payload, read without verifying the signature (only the
/// registry can, and it just accepted the token). `None` when the token is not a JWT or has no
/// such claim.
fn granted_access(token: &str) -> Option<Vec<GrantedAccess>> {
    let payload = token.split('.').nth(1)?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let mut claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&decoded).ok()?;
    serde_json::from_value(claims.remove("access")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let encode = |value: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value);
        format!(
            "{}.{}.c2ln",
            encode(br#"{"alg":"ES256"}"#),
            encode(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn the_access_claim_is_read_from_the_payload() {
        let token = jwt(&serde_json::json!({
            "iss": "test",
            "access": [{ "type": "repository", "name": "team/app", "actions": ["pull", "push"] }]
        }));
        let granted = granted_access(&token).expect("access");
        assert_eq!(granted[0].scope(), "repository:team/app:pull,push");
        assert_eq!(
            granted_access(&jwt(&serde_json::json!({"access": []}))),
            Some(vec![])
        );
        assert_eq!(granted_access(&jwt(&serde_json::json!({"iss": "x"}))), None);
        assert_eq!(granted_access("opaque-token"), None);
        assert_eq!(granted_access("a.!!!.c"), None);
    }

    #[test]
    fn accepted_text_names_the_grants_or_the_requested_scope() {
        let challenge = Challenge {
            scheme: "Bearer".to_owned(),
            realm: Some("https://auth.example/token".to_owned()),
            service: Some("registry".to_owned()),
            scope: Some("repository:a:pull".to_owned()),
        };
        let text = accepted_text(&challenge, "ci", None);
        assert!(
            text.ends_with("requested scope repository:a:pull (the token does not list it)"),
            "{text}"
        );
        assert!(text.contains("https://auth.example/token"), "{text}");
        let basic = Challenge {
            scheme: "Basic".to_owned(),
            ..challenge
        };
        assert_eq!(
            accepted_text(&basic, "ci", None),
            "the registry accepted the Basic credentials of `ci`"
        );
    }
}
