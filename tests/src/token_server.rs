//! A Docker registry token service for tests, as docker-registry's `auth: token` expects one:
//! HTTPS on 127.0.0.1, `GET /token?service=...&scope=...` with Basic credentials answered by
//! an ES256 JWT whose `x5c` header carries the signing certificate, so the registry verifies it
//! against its `rootcertbundle`. Wrong credentials get a 401 with a registry error body.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

/// What the service issues tokens for.
#[derive(Debug, Clone)]
pub struct TokenService {
    /// The JWT `iss`; the registry's `auth.token.issuer`.
    pub issuer: String,
    pub username: String,
    pub password: String,
    /// What every token grants besides the requested scopes: `(type, name, actions)`.
    pub default_grant: (String, String, Vec<String>),
}

/// One request the service got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The request target, e.g. `/token?service=registry`.
    pub target: String,
    pub authorization: Option<String>,
}

/// The running service; its listener thread ends with the test process.
#[derive(Debug)]
pub struct TokenServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

struct Signer {
    key: EcdsaKeyPair,
    x5c: String,
}

impl TokenServer {
    /// Serves TLS with `cert_pem`/`key_pem` (an ECDSA P-256 key) and signs tokens with the same
    /// key, naming the certificate in each token's `x5c`.
    pub fn start(cert_pem: &str, key_pem: &str, service: TokenService) -> Self {
        let certificate = CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert PEM");
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key PEM");
        let signer = Signer {
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.secret_der())
                .expect("an ECDSA P-256 PKCS#8 key"),
            x5c: base64::engine::general_purpose::STANDARD.encode(certificate.as_ref()),
        };
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .expect("server certificate");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let signer = Arc::new(signer);
        let service = Arc::new(service);
        {
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let config = Arc::clone(&config);
                    let requests = Arc::clone(&requests);
                    let signer = Arc::clone(&signer);
                    let service = Arc::clone(&service);
                    std::thread::spawn(move || {
                        serve(stream, config, &requests, &signer, &service);
                    });
                }
            });
        }
        Self { address, requests }
    }

    /// `https://127.0.0.1:PORT/token`.
    pub fn realm(&self) -> String {
        format!("https://{}/token", self.address)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    requests: &Mutex<Vec<TokenRequest>>,
    signer: &Signer,
    service: &TokenService,
) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    {
        let mut reader = BufReader::new(&mut tls);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push(line.trim_end().to_owned()),
            }
        }
    }
    let target = head
        .first()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned();
    let authorization = head.iter().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("authorization")
            .then(|| value.trim().to_owned())
    });
    requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(TokenRequest {
            target: target.clone(),
            authorization: authorization.clone(),
        });
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", service.username, service.password))
    );
    let (status, body) = if authorization.as_deref() == Some(expected.as_str()) {
        let token = token(signer, service, &target);
        ("200 OK", json!({ "token": token, "access_token": token }))
    } else {
        (
            "401 Unauthorized",
            json!({ "errors": [{ "code": "UNAUTHORIZED", "message": "invalid username or password" }] }),
        )
    };
    let body = body.to_string();
    let _ = write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// The value of `name` in the request target's query, percent-decoded.
fn query_value(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| acr_net::percent_decode(value))
    })
}

/// An ES256 JWT for the request's `service` and `scope`, valid for five minutes.
fn token(signer: &Signer, service: &TokenService, target: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (kind, name, actions) = &service.default_grant;
    let mut access = vec![json!({ "type": kind, "name": name, "actions": actions })];
    if let Some(scope) = query_value(target, "scope") {
        let mut parts = scope.splitn(3, ':');
        if let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
        {
            let actions: Vec<&str> = actions.split(',').collect();
            access.push(json!({ "type": kind, "name": name, "actions": actions }));
        }
    }
    let header = json!({ "typ": "JWT", "alg": "ES256", "x5c": [signer.x5c] });
    let claims = json!({
        "iss": service.issuer,
        "sub": service.username,
        "aud": query_value(target, "service").unwrap_or_default(),
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("token-{now}"),
        "access": access,
    });
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let signed = format!(
        "{}.{}",
        encode(header.to_string().as_bytes()),
        encode(claims.to_string().as_bytes())
    );
    let signature = signer
        .key
        .sign(&SystemRandom::new(), signed.as_bytes())
        .expect("sign");
    format!("{signed}.{}", encode(signature.as_ref()))
}
