//! The `v2` and `auth` steps over HTTPS, through the one HTTP stack (`acr-net`, trusting what
//! the `tls` step trusted): `GET /v2/`, then the Docker registry authentication its challenge
//! asks for, as `acr_net::registry_auth` answers it.

use acr_net::registry_auth::{self, Authorization, Login};
use acr_net::{HttpClient, NetError, Response, StatusCode, error_detail, header};
use base64::Engine as _;

use super::Credentials;
use super::endpoint::Endpoint;
use super::report::{AuthStep, Challenge, GrantedAccess, StepResult, V2Step};

/// `GET /v2/`: 200 passes; 401 with a challenge passes and records it.
pub(crate) fn v2_step(client: Result<&HttpClient, &NetError>, endpoint: &Endpoint) -> V2Step {
    let url = endpoint.url("/v2/");
    let response = match client
        .map_err(NetError::clone)
        .and_then(|client| client.get(&url))
    {
        Ok(response) => response,
        Err(error) => {
            return V2Step {
                result: StepResult::fail(error.to_string()),
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
            error_text(response)
        )),
    };
    V2Step {
        result,
        status: Some(status.as_u16()),
        challenge,
    }
}

fn challenge_of(response: &Response) -> Option<Challenge> {
    let challenge = registry_auth::Challenge::of(response)?;
    let parameter = |name| challenge.parameter(name).map(str::to_owned);
    Some(Challenge {
        scheme: challenge.scheme.clone(),
        realm: parameter("realm"),
        service: parameter("service"),
        scope: parameter("scope"),
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
fn error_text(response: Response) -> String {
    let detail = error_detail(response);
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// The `auth` step: answers the challenge with the credentials and retries `GET /v2/`.
pub(crate) fn auth_step(
    client: Result<&HttpClient, &NetError>,
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
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            step.result = StepResult::fail(error.to_string());
            return step;
        }
    };
    let user = &credentials.username;
    let login = Login {
        username: user,
        password: credentials.password.expose(),
    };
    let authorization =
        match registry_auth::authorize(client, &auth_challenge(challenge), Some(login)) {
            Ok(authorization) => authorization,
            Err(error) => {
                step.result = StepResult::fail(error.to_string());
                return step;
            }
        };
    step.granted = authorization.bearer_token().and_then(granted_access);
    let url = endpoint.url("/v2/");
    let response = match send_authorized(client, &url, &authorization) {
        Ok(response) => response,
        Err(error) => {
            step.result = StepResult::fail(error.to_string());
            return step;
        }
    };
    step.result = match response.status() {
        StatusCode::OK => StepResult::pass(accepted_text(challenge, user, step.granted.as_deref())),
        status => StepResult::fail(format!(
            "the registry refused the {} credentials of `{user}`: GET {url} answered {}{}",
            challenge.scheme,
            status.as_u16(),
            error_text(response)
        )),
    };
    step
}

/// The report's challenge as `acr-net` reads challenges.
fn auth_challenge(challenge: &Challenge) -> registry_auth::Challenge {
    registry_auth::Challenge {
        scheme: challenge.scheme.clone(),
        parameters: [
            ("realm", &challenge.realm),
            ("service", &challenge.service),
            ("scope", &challenge.scope),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value.clone()?)))
        .collect(),
    }
}

fn send_authorized(
    client: &HttpClient,
    url: &str,
    authorization: &Authorization,
) -> Result<Response, NetError> {
    client.send(acr_net::Method::GET, url, |request| {
        request.header(header::AUTHORIZATION, authorization.header_value())
    })
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
