//! Docker registry authentication, written once for every caller (policy pulls and pushes, the
//! registry check): a 401's `WWW-Authenticate` challenge is answered with Basic credentials, or
//! with a token from the Bearer challenge's realm, fetched with the credentials when there are
//! any (anonymously otherwise).

use crate::{HttpClient, NetError, StatusCode, error_detail, header, percent_encode, read_body};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::fmt;

/// The largest token answer read.
const TOKEN_ANSWER_LIMIT: u64 = 1 << 20;

/// A user name and password (or ACR token) for a registry.
#[derive(Clone, Copy)]
pub struct Login<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

impl fmt::Debug for Login<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Login")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A `WWW-Authenticate` challenge: its scheme and (lowercased) parameter names and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub parameters: BTreeMap<String, String>,
}

impl Challenge {
    /// The challenge of a 401 answer, when it has one.
    pub fn of(response: &crate::Response) -> Option<Self> {
        let value = response
            .headers()
            .get(header::WWW_AUTHENTICATE)?
            .to_str()
            .ok()?;
        Some(Self::parse(value))
    }

    /// Splits `Scheme key="value",key=value`; commas inside quotes belong to the value.
    pub fn parse(challenge: &str) -> Self {
        let challenge = challenge.trim();
        let (scheme, rest) = challenge
            .split_once(char::is_whitespace)
            .unwrap_or((challenge, ""));
        let mut parameters = BTreeMap::new();
        let mut rest = rest.trim_start();
        while let Some((name, after_name)) = rest.split_once('=') {
            let name = name.trim().to_ascii_lowercase();
            let (value, after_value) = match after_name.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    (&quoted[..end], quoted.get(end + 1..).unwrap_or_default())
                }
                None => after_name
                    .split_once(',')
                    .map_or((after_name, ""), |(value, after)| (value, after)),
            };
            parameters.insert(name, value.trim().to_owned());
            rest = after_value
                .trim_start()
                .trim_start_matches(',')
                .trim_start();
        }
        Self {
            scheme: scheme.to_owned(),
            parameters,
        }
    }

    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// The `Authorization` header value that answers a challenge; never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    header: String,
    /// The Bearer token, when the realm issued one.
    token: Option<String>,
}

impl Authorization {
    pub fn header_value(&self) -> &str {
        &self.header
    }

    /// The token the realm issued (to read its claims), for a Bearer challenge.
    pub fn bearer_token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Authorization(<redacted>)")
    }
}

/// Why a challenge could not be answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("it asks for credentials ({scheme}) and none are configured for it")]
    NeedsCredentials { scheme: String },
    #[error(
        "it answered 401 with the challenge scheme `{scheme}`, which is neither Basic nor Bearer"
    )]
    UnsupportedScheme { scheme: String },
    #[error("its Bearer challenge names no realm to get a token from")]
    NoRealm,
    #[error(
        "the token realm {realm} is not https: the credentials would travel in clear text, so \
         they were not sent"
    )]
    RealmNotHttps { realm: String },
    #[error("{0}")]
    Realm(NetError),
    #[error("the token service refused {who}: GET {url} answered {status}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Refused {
        who: String,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("the token realm {url} answered no token JSON: {reason}")]
    NoTokenJson { url: String, reason: String },
    #[error("the token realm {url} answered no usable token")]
    NoUsableToken { url: String },
}

/// Answers `challenge`: Basic with `login`, or Bearer with a token from the challenge's realm
/// (asked with `login` as Basic credentials when given). A realm in plain http is refused when
/// credentials would be sent to it, unless the client allows plain http.
pub fn authorize(
    client: &HttpClient,
    challenge: &Challenge,
    login: Option<Login<'_>>,
) -> Result<Authorization, AuthError> {
    if challenge.is("basic") {
        let login = login.ok_or_else(|| AuthError::NeedsCredentials {
            scheme: "Basic".to_owned(),
        })?;
        return Ok(Authorization {
            header: format!("Basic {}", basic(login)),
            token: None,
        });
    }
    if !challenge.is("bearer") {
        return Err(AuthError::UnsupportedScheme {
            scheme: challenge.scheme.clone(),
        });
    }
    let realm = challenge.parameter("realm").ok_or(AuthError::NoRealm)?;
    if !realm.starts_with("https://") && (login.is_some() || !client.insecure_http()) {
        return Err(AuthError::RealmNotHttps {
            realm: realm.to_owned(),
        });
    }
    let query: Vec<String> = ["service", "scope"]
        .into_iter()
        .filter_map(|name| {
            challenge
                .parameter(name)
                .map(|value| format!("{name}={}", percent_encode(value)))
        })
        .collect();
    let url = match (query.is_empty(), realm.contains('?')) {
        (true, _) => realm.to_owned(),
        (false, true) => format!("{realm}&{}", query.join("&")),
        (false, false) => format!("{realm}?{}", query.join("&")),
    };
    let response = client
        .send(crate::Method::GET, &url, |request| match login {
            Some(login) => request.header(header::AUTHORIZATION, format!("Basic {}", basic(login))),
            None => request,
        })
        .map_err(AuthError::Realm)?;
    if response.status() != StatusCode::OK {
        return Err(AuthError::Refused {
            who: match login {
                Some(login) => format!("the credentials of `{}`", login.username),
                None => "anonymous access".to_owned(),
            },
            url,
            status: response.status().as_u16(),
            detail: error_detail(response),
        });
    }
    let answer = read_body(response, &url, TOKEN_ANSWER_LIMIT, "a token answer")
        .map_err(AuthError::Realm)?;
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let answer: TokenAnswer =
        serde_json::from_slice(&answer).map_err(|error| AuthError::NoTokenJson {
            url: url.clone(),
            reason: error.to_string(),
        })?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|token| !token.is_empty() && token.chars().all(|c| c.is_ascii_graphic()))
        .ok_or(AuthError::NoUsableToken { url })?;
    Ok(Authorization {
        header: format!("Bearer {token}"),
        token: Some(token),
    })
}

fn basic(login: Login<'_>) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", login.username, login.password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_split_into_scheme_and_parameters() {
        let challenge = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(challenge.scheme, "Bearer");
        assert_eq!(
            challenge.parameter("realm"),
            Some("https://auth.example/token")
        );
        assert_eq!(challenge.parameter("service"), Some("registry.example"));
        assert_eq!(
            challenge.parameter("scope"),
            Some("repository:a/b:pull,push")
        );

        let challenge = Challenge::parse("Basic Realm=registry, charset=\"UTF-8\"");
        assert_eq!(challenge.scheme, "Basic");
        assert_eq!(challenge.parameter("realm"), Some("registry"));
        assert_eq!(challenge.parameter("charset"), Some("UTF-8"));
        assert_eq!(Challenge::parse("Negotiate").scheme, "Negotiate");
    }

    #[test]
    fn basic_needs_a_login_and_never_shows_it() {
        let client = HttpClient::new(&crate::ClientOptions::system(
            None,
            std::time::Duration::from_secs(1),
        ))
        .expect("client");
        let basic = Challenge::parse("Basic realm=r");
        assert_eq!(
            authorize(&client, &basic, None)
                .expect_err("no login")
                .to_string(),
            "it asks for credentials (Basic) and none are configured for it"
        );
        let login = Login {
            username: "u",
            password: "secret",
        };
        let answer = authorize(&client, &basic, Some(login)).expect("basic");
        assert_eq!(answer.header_value(), "Basic dTpzZWNyZXQ=");
        assert!(!format!("{answer:?}{login:?}").contains("secret"));
        let clear = Challenge::parse(r#"Bearer realm="http://auth.example/token""#);
        assert!(matches!(
            authorize(&client, &clear, Some(login)),
            Err(AuthError::RealmNotHttps { .. })
        ));
    }
}
