//! `kubectl acr verify` against Debian's docker-registry on 127.0.0.1 serving certificates from
//! `kubectl acr cert generate`: it passes with the right CA and credentials (htpasswd Basic, and
//! the Bearer token flow through a token service whose JWTs docker-registry itself verifies),
//! and names the failing step precisely for a wrong CA, a certificate that misses the address,
//! wrong credentials and a registry speaking plain HTTP. From the cluster, it reads the Service
//! and the TLS Secret's CA through the fake API server.

use std::path::{Path, PathBuf};

use acr_tests::fake_api_server::FakeApiServer;
use acr_tests::peers::DockerRegistry;
use acr_tests::token_server::{TokenServer, TokenService};
use acr_tests::{Run, fixture, kubectl_acr_command, path_text, run_with_stdin};
use base64::Engine as _;
use serde_json::{Value, json};

const USER: &str = "verify-user";
/// The password of `USER` in tests/fixtures/registry/htpasswd.
const PASSWORD: &str = "verify-password";
const WRONG_PASSWORD: &str = "not-the-password-4711";
const SERVICE: &str = "verify-registry";
const ISSUER: &str = "verify-token-issuer";

/// Runs `kubectl-acr ARGS` with `stdin` on standard input.
fn kubectl_acr(args: &[&str], stdin: &str) -> Run {
    run_with_stdin(
        kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR"))).args(args),
        stdin.as_bytes(),
    )
}

/// `kubectl acr cert generate` into `dir/name` for the given `--ip`/`--dns` flags.
fn certificates(dir: &Path, name: &str, names: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["cert", "generate", "--out-dir", path_text(&out)];
    args.extend_from_slice(names);
    kubectl_acr(&args, "").success();
    out
}

fn registry(dir: &Path, certs: &Path, auth: &str) -> DockerRegistry {
    DockerRegistry::start(dir, &certs.join("tls.crt"), &certs.join("tls.key"), auth)
}

fn htpasswd_auth() -> String {
    format!(
        "auth:\n  htpasswd:\n    realm: verify-test\n    path: {}\n",
        fixture("registry/htpasswd").display()
    )
}

/// `verify --server ... -o json` plus `extra`, returning the run and its JSON.
fn verify_json(server: &str, extra: &[&str], stdin: &str) -> (Run, Value) {
    let mut args = vec!["verify", "--server", server, "-o", "json"];
    args.extend_from_slice(extra);
    let run = kubectl_acr(&args, stdin);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {run:?}"));
    (run, json)
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    ["resolve", "tls", "san", "v2", "auth"]
        .iter()
        .map(|step| {
            (
                (*step).to_owned(),
                report[*step]["outcome"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

fn expect_outcomes(report: &Value, expected: [&str; 5]) {
    let got = outcomes(report);
    let wanted: Vec<(String, String)> = ["resolve", "tls", "san", "v2", "auth"]
        .iter()
        .zip(expected)
        .map(|(step, outcome)| ((*step).to_owned(), outcome.to_owned()))
        .collect();
    assert_eq!(got, wanted, "{report:#}");
}

fn reason(report: &Value, step: &str) -> String {
    report[step]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `verify --server SERVER [--ca CA] -o json`, expected to fail; returns the registry report.
fn failing_check(server: &str, ca: Option<&Path>) -> Value {
    let extra: Vec<&str> = match ca {
        Some(ca) => vec!["--ca", path_text(ca)],
        None => Vec::new(),
    };
    let (run, json) = verify_json(server, &extra, "");
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(json["passed"], false);
    json["registry"].clone()
}

#[test]
fn basic_auth_passes_with_the_right_ca_and_credentials_and_fails_with_wrong_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let registry = registry(dir.path(), &certs, &htpasswd_auth());
    let ca = certs.join("ca.crt");
    let login = [
        "--ca",
        path_text(&ca),
        "--username",
        USER,
        "--password-stdin",
    ];

    let (run, json) = verify_json(&registry.host(), &login, &format!("{PASSWORD}\n"));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(json["passed"], true);
    let report = &json["registry"];
    expect_outcomes(report, ["pass"; 5]);
    assert_eq!(report["tls"]["chainValid"], true);
    assert_eq!(report["tls"]["protocol"], "TLSv1.3");
    assert_eq!(
        report["tls"]["chain"][0]["subjectAltNames"]["ip"],
        json!(["127.0.0.1"])
    );
    assert_eq!(report["v2"]["status"], 401);
    assert_eq!(report["v2"]["challenge"]["scheme"], "Basic");
    assert_eq!(report["v2"]["challenge"]["realm"], "verify-test");
    assert_eq!(report["auth"]["scheme"], "Basic");
    assert_eq!(
        reason(report, "auth"),
        "the registry accepted the Basic credentials of `verify-user`"
    );

    let host = registry.host();
    let mut args = vec!["verify", "--server", &host];
    args.extend_from_slice(&login);
    let text = kubectl_acr(&args, PASSWORD).success();
    for line in [
        "PASS  resolve  127.0.0.1 is an IP address: nothing to resolve\n",
        "PASS  tls      TLSv1.3; the presented chain is valid and trusted by the given CA certificates\n",
        "PASS  san      the certificate's subjectAltNames (IP:127.0.0.1) cover IP 127.0.0.1\n",
        "PASS  auth     the registry accepted the Basic credentials of `verify-user`\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(
        text.contains("PASS  v2       GET https://127.0.0.1:")
            && text.contains(
                "answered 401: authentication required (Basic challenge, realm verify-test)"
            ),
        "{text}"
    );

    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{WRONG_PASSWORD}\n")).expect("write");
    let (run, json) = verify_json(
        &registry.host(),
        &[
            "--ca",
            path_text(&ca),
            "--username",
            USER,
            "--password-file",
            path_text(&password_file),
        ],
        "",
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(json["passed"], false);
    expect_outcomes(&json["registry"], ["pass", "pass", "pass", "pass", "fail"]);
    let refused = reason(&json["registry"], "auth");
    assert!(
        refused.starts_with(
            "the registry refused the Basic credentials of `verify-user`: GET https://127.0.0.1:"
        ) && refused.ends_with("/v2/ answered 401: UNAUTHORIZED: authentication required"),
        "{refused}"
    );
    assert!(
        !run.stdout.contains(WRONG_PASSWORD) && !run.stderr.contains(WRONG_PASSWORD),
        "the password leaked: {run:?}"
    );
    assert_eq!(run.stderr.trim(), "verify: a check failed");
}

#[test]
fn a_wrong_ca_is_an_unknown_issuer_and_the_chain_is_still_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let other = certificates(
        dir.path(),
        "other",
        &["--ip", "127.0.0.1", "--org", "Another Org"],
    );
    let registry = registry(dir.path(), &certs, "");

    let report = &failing_check(&registry.host(), Some(&other.join("ca.crt")));
    expect_outcomes(report, ["pass", "fail", "pass", "skipped", "skipped"]);
    assert_eq!(report["tls"]["chainValid"], false);
    assert!(
        reason(report, "tls").starts_with(
            "unknown issuer: the chain ends at a certificate issued by CN=Azure Container \
             Registry connected registry CA"
        ),
        "{}",
        reason(report, "tls")
    );
    assert_eq!(
        report["tls"]["chain"][0]["subject"],
        "CN=127.0.0.1, O=Azure Container Registry connected registry"
    );
    assert_eq!(
        reason(report, "v2"),
        "clients refuse this TLS connection (see tls and san)"
    );

    // A CA generated again has the same name but another key.
    let again = certificates(dir.path(), "again", &["--ip", "127.0.0.1"]);
    let (run, json) = verify_json(
        &registry.host(),
        &["--ca", path_text(&again.join("ca.crt"))],
        "",
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    expect_outcomes(
        &json["registry"],
        ["pass", "fail", "pass", "skipped", "skipped"],
    );
    assert!(
        reason(&json["registry"], "tls").starts_with(
            "bad signature: CN=Azure Container Registry connected registry CA, O=Azure \
             Container Registry connected registry among the given CA certificates has the \
             issuer's name but not its key"
        ),
        "{report:#}"
    );

    // Without --ca, the system trust store does not know a private CA either.
    let report = &failing_check(&registry.host(), None);
    assert!(
        reason(report, "tls").contains("not among the system trust store"),
        "{report:#}"
    );
}

#[test]
fn a_certificate_that_misses_the_address_fails_the_san_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(
        dir.path(),
        "certs",
        &["--ip", "10.0.0.1", "--dns", "registry.local"],
    );
    let registry = registry(dir.path(), &certs, "");
    let report = &failing_check(&registry.host(), Some(&certs.join("ca.crt")));
    expect_outcomes(report, ["pass", "pass", "fail", "skipped", "skipped"]);
    assert_eq!(report["tls"]["chainValid"], true);
    assert_eq!(
        reason(report, "san"),
        "the certificate's subjectAltNames (DNS:registry.local, IP:10.0.0.1) do not cover IP \
         127.0.0.1, so clients refuse it: reissue it with --ip 127.0.0.1 (kubectl acr cert \
         generate), or connect by a name it covers"
    );
}

#[test]
fn plain_http_is_named_in_the_tls_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = DockerRegistry::start_plain_http(dir.path());
    let report = &failing_check(&registry.host(), None);
    expect_outcomes(report, ["pass", "fail", "skipped", "skipped", "skipped"]);
    assert!(
        reason(report, "tls")
            .starts_with("the server answered in plain HTTP; clients expect TLS on 127.0.0.1:"),
        "{}",
        reason(report, "tls")
    );
}

#[test]
fn the_bearer_token_flow_runs_against_docker_registry_token_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let read = |name: &str| std::fs::read_to_string(certs.join(name)).expect("generated file");
    let tokens = TokenServer::start(
        &read("tls.crt"),
        &read("tls.key"),
        TokenService {
            issuer: ISSUER.to_owned(),
            username: USER.to_owned(),
            password: PASSWORD.to_owned(),
            default_grant: (
                "registry".to_owned(),
                "catalog".to_owned(),
                vec!["*".to_owned()],
            ),
        },
    );
    // docker-registry verifies each token's signature through its x5c certificate, which the
    // generated CA (the rootcertbundle) signed, and its issuer, audience and lifetime.
    let auth = format!(
        "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    \
         rootcertbundle: {}\n",
        tokens.realm(),
        certs.join("ca.crt").display()
    );
    let registry = registry(dir.path(), &certs, &auth);
    let ca = certs.join("ca.crt");
    let login = [
        "--ca",
        path_text(&ca),
        "--username",
        USER,
        "--password-stdin",
    ];

    let (run, json) = verify_json(&registry.host(), &login, PASSWORD);
    assert_eq!(run.code, Some(0), "{run:?}\n{}", registry.peer.log_text());
    let report = &json["registry"];
    expect_outcomes(report, ["pass"; 5]);
    assert_eq!(report["v2"]["challenge"]["scheme"], "Bearer");
    assert_eq!(report["v2"]["challenge"]["realm"], tokens.realm());
    assert_eq!(report["v2"]["challenge"]["service"], SERVICE);
    assert_eq!(report["auth"]["scheme"], "Bearer");
    assert_eq!(
        report["auth"]["granted"],
        json!([{ "type": "registry", "name": "catalog", "actions": ["*"] }])
    );
    assert!(
        reason(report, "auth")
            .ends_with("that the registry accepted; the token grants registry:catalog:*"),
        "{}",
        reason(report, "auth")
    );
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].target, format!("/token?service={SERVICE}"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );

    let (run, json) = verify_json(&registry.host(), &login, WRONG_PASSWORD);
    assert_eq!(run.code, Some(1), "{run:?}");
    expect_outcomes(&json["registry"], ["pass", "pass", "pass", "pass", "fail"]);
    let refused = reason(&json["registry"], "auth");
    assert_eq!(
        refused,
        format!(
            "the token service refused the credentials of `verify-user`: GET {}?service={SERVICE} \
             answered 401: UNAUTHORIZED: invalid username or password",
            tokens.realm()
        )
    );
    assert!(!run.stdout.contains(WRONG_PASSWORD), "{run:?}");
}

#[test]
fn without_server_the_deployed_registry_is_read_from_the_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let registry = registry(dir.path(), &certs, "");
    let api = FakeApiServer::start();
    let kubeconfig = api.write_kubeconfig(dir.path());
    let namespace = "edge-registry";
    api.insert(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": "connected-registry", "namespace": namespace },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "127.0.0.1",
            "ports": [{ "name": "https", "port": registry.peer.port, "targetPort": "https" }],
        },
    }));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--kubeconfig",
            path_text(&kubeconfig),
            "-n",
            namespace,
        ];
        args.extend_from_slice(extra);
        kubectl_acr(&args, "")
    };

    let missing_ca = verify(&[]);
    assert_eq!(missing_ca.code, Some(1), "{missing_ca:?}");
    assert_eq!(
        missing_ca.stderr.trim(),
        "error: Secret edge-registry/connected-registry-tls has no ca.crt to trust the registry \
         with: give --ca FILE"
    );

    let ca = std::fs::read_to_string(certs.join("ca.crt")).expect("ca");
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    api.insert(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": { "name": "connected-registry-tls", "namespace": namespace },
        "data": { "ca.crt": b64(&ca), "tls.crt": b64(&std::fs::read_to_string(certs.join("tls.crt")).expect("crt")) },
    }));
    api.take_requests();
    let run = verify(&["-o", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        json["source"],
        format!(
            "Connected registry: Service edge-registry/connected-registry at 127.0.0.1:{}, CA \
             from Secret edge-registry/connected-registry-tls (ca.crt)",
            registry.peer.port
        )
    );
    expect_outcomes(
        &json["registry"],
        ["pass", "pass", "pass", "pass", "skipped"],
    );
    let lines: Vec<String> = api
        .requests()
        .iter()
        .map(|request| request.line())
        .collect();
    assert_eq!(
        lines,
        [
            "GET /api/v1/namespaces/edge-registry/services/connected-registry",
            "GET /apis/apps/v1/namespaces/edge-registry/deployments/connected-registry",
            "GET /api/v1/namespaces/edge-registry/secrets/connected-registry-tls",
        ]
    );

    let absent = kubectl_acr(
        &[
            "verify",
            "--kubeconfig",
            path_text(&kubeconfig),
            "-n",
            "elsewhere",
        ],
        "",
    );
    assert_eq!(absent.code, Some(1), "{absent:?}");
    assert!(
        absent.stderr.contains("Service elsewhere/connected-registry does not exist: deploy the connected registry (kubectl acr deploy), check -n, or give --server"),
        "{}",
        absent.stderr
    );
}

#[test]
fn verify_and_its_flags_complete_through_kubectl() {
    assert!(
        kubectl_acr(&["__complete", "ver"], "")
            .success()
            .starts_with("verify\n"),
    );
    assert_eq!(
        kubectl_acr(&["__complete", "verify", "--password-"], "").success(),
        "--password-stdin\n--password-file\n:4\n"
    );
}

/// An HTTP CONNECT proxy on 127.0.0.1 that tunnels to whatever is asked and counts the tunnels;
/// with `credentials` (`user:password`) it answers 407 to a CONNECT without them as
/// `Proxy-Authorization: Basic`.
fn connect_proxy(
    credentials: Option<&str>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&tunnels);
    let required = credentials.map(|credentials| {
        format!(
            "proxy-authorization: basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    });
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let counted = std::sync::Arc::clone(&counted);
            let required = required.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().expect("clone"));
                let mut request = String::new();
                reader.read_line(&mut request).expect("request line");
                let mut line = String::new();
                let mut authorized = required.is_none();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    authorized |= required
                        .as_deref()
                        .is_some_and(|required| line.trim_end().eq_ignore_ascii_case(required));
                    line.clear();
                }
                if !authorized {
                    let _ = (&client).write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                          Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
                    );
                    return;
                }
                let target = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let Ok(upstream) = std::net::TcpStream::connect(&target) else {
                    let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                counted.fetch_add(1, Ordering::SeqCst);
                (&client)
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .expect("answer");
                let mut to_upstream = upstream.try_clone().expect("clone");
                let mut from_upstream = upstream;
                let mut to_client = client.try_clone().expect("clone");
                std::thread::spawn(move || std::io::copy(&mut reader, &mut to_upstream));
                let _ = std::io::copy(&mut from_upstream, &mut to_client);
            });
        }
    });
    (port, tunnels)
}

#[test]
fn every_step_goes_through_the_https_proxy_unless_no_proxy_covers_the_host() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let registry = registry(dir.path(), &certs, &htpasswd_auth());
    let (proxy_port, tunnels) = connect_proxy(None);
    let ca = certs.join("ca.crt");
    let args = [
        "verify",
        "--server",
        &registry.host(),
        "--ca",
        path_text(&ca),
        "--username",
        USER,
        "--password-stdin",
        "-o",
        "json",
    ];
    let proxied = |no_proxy: &str| {
        let mut command = kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR")));
        command
            .args(args)
            .env("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"))
            .env("NO_PROXY", no_proxy)
            .env_remove("https_proxy")
            .env_remove("no_proxy");
        run_with_stdin(&mut command, PASSWORD.as_bytes())
    };

    let run = proxied("");
    assert_eq!(run.code, Some(0), "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    expect_outcomes(&json["registry"], ["pass"; 5]);
    assert_eq!(
        json["registry"]["tls"]["address"],
        format!(
            "{} through the proxy 127.0.0.1:{proxy_port}",
            registry.host()
        )
    );
    // The TLS step's own tunnel, and the HTTP client's (the v2 and auth steps share its one
    // kept-alive connection).
    assert!(tunnels.load(Ordering::SeqCst) >= 2, "{run:?}");

    let before = tunnels.load(Ordering::SeqCst);
    let run = proxied("127.0.0.1");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        before,
        "NO_PROXY covers 127.0.0.1"
    );
}

#[test]
fn every_step_sends_the_proxy_urls_credentials_and_no_output_shows_them() {
    use std::sync::atomic::Ordering;
    const PROXY_PASSWORD: &str = "proxy-s3cret-p@ss";
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = certificates(dir.path(), "certs", &["--ip", "127.0.0.1"]);
    let registry = registry(dir.path(), &certs, &htpasswd_auth());
    let (proxy_port, tunnels) = connect_proxy(Some(&format!("proxy-user:{PROXY_PASSWORD}")));
    let ca = certs.join("ca.crt");
    let proxied = |password: &str| {
        let mut command = kubectl_acr_command(Path::new(env!("CARGO_TARGET_TMPDIR")));
        command
            .args([
                "verify",
                "--server",
                &registry.host(),
                "--ca",
                path_text(&ca),
                "--username",
                USER,
                "--password-stdin",
                "-o",
                "json",
            ])
            // The password percent-encoded in the URL, as proxy URLs carry an `@`.
            .env(
                "HTTPS_PROXY",
                format!(
                    "http://proxy-user:{}@127.0.0.1:{proxy_port}",
                    password.replace('@', "%40")
                ),
            )
            .env("NO_PROXY", "")
            .env_remove("https_proxy")
            .env_remove("no_proxy");
        run_with_stdin(&mut command, PASSWORD.as_bytes())
    };

    let run = proxied(PROXY_PASSWORD);
    assert_eq!(run.code, Some(0), "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    expect_outcomes(&json["registry"], ["pass"; 5]);
    // The TLS step's own tunnel and the HTTP client's were both let through.
    assert!(tunnels.load(Ordering::SeqCst) >= 2, "{run:?}");
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));

    // Wrong credentials: the TLS step says the proxy refused, naming neither password.
    let wrong = "wrong-pr0xy-pass";
    let run = proxied(wrong);
    assert_ne!(run.code, Some(0), "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let reason = reason(&json["registry"], "tls");
    assert!(
        reason.contains(&format!(
            "the proxy 127.0.0.1:{proxy_port} refused the tunnel: HTTP/1.1 407"
        )),
        "{run:?}"
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.contains(wrong) && !output.contains("s3cret"),
            "{run:?}"
        );
    }
}
