//! A fake Kubernetes API server for the cluster-flow tests: HTTP/1.1 without TLS on 127.0.0.1
//! (a kubeconfig with `server: http://127.0.0.1:PORT` reaches it), an in-memory object store,
//! and a record of every request.
//!
//! It serves what `kubectl acr deploy`, `status` and `delete` send: GET of one object, LIST
//! with equality label selectors, server-side apply PATCH and DELETE, for the resources in
//! [`RESOURCES`]. cert-manager's resources are served only while their CRD is stored, and a
//! namespaced object can only be applied into a stored namespace, as on a real server (so a
//! server-side dry run of a fresh deployment answers 404 for what the same run creates).
//!
//! Server-side apply stores the applied object, keeping the server's fields (uid,
//! creationTimestamp, resourceVersion, generation, status); an apply that changes nothing keeps
//! the resourceVersion. `dryRun=All` answers as a real apply would and stores nothing.
//! Deployments and DaemonSets get a status at once: rolled out, or never ready ([`Workloads`]).
//!
//! Every request is checked, and what breaks the rules is recorded as a violation that fails
//! the test ([`FakeApiServer::requests`] and dropping the server assert there are none): the
//! bearer token, known resources and scopes only, GET/PATCH/DELETE only, query parameters
//! limited to what each verb needs, equality-only label selectors, and for every PATCH the
//! content type `application/apply-patch+yaml`, `fieldManager=kubectl-acr`, `force` only as
//! `true` (`--force-conflicts`), `dryRun` only as `All`, and a body whose apiVersion, kind, name and namespace match the URL.
//!
//! The one other PATCH is the JSON merge patch `pull-secret create` sends to a ServiceAccount's
//! `imagePullSecrets`: it must name `fieldManager=kubectl-acr`, no `force`, touch nothing but
//! `imagePullSecrets`, and carry the `metadata.resourceVersion` it read, which the server checks
//! as a real one does (409 Conflict when the object changed since).

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The field manager every PATCH must name.
pub const FIELD_MANAGER: &str = "kubectl-acr";
/// The bearer token of the kubeconfig [`FakeApiServer::kubeconfig`] writes.
pub const TOKEN: &str = "fake-api-server-token";
/// The content type of server-side apply.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";
/// The content type of a JSON merge patch (RFC 7386).
pub const MERGE_PATCH: &str = "application/merge-patch+json";
/// The creation time of every object the server creates.
const CREATED_AT: &str = "2026-01-01T00:00:00Z";

/// One resource the server knows.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// The CRD that must be stored for the resource to be served.
    pub crd: Option<&'static str>,
}

const fn resource(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        api_version,
        kind,
        plural,
        namespaced,
        crd: None,
    }
}

/// Every resource served.
pub const RESOURCES: [Resource; 20] = [
    resource("v1", "Namespace", "namespaces", false),
    resource("v1", "Node", "nodes", false),
    resource("v1", "ServiceAccount", "serviceaccounts", true),
    resource("v1", "Secret", "secrets", true),
    resource("v1", "ConfigMap", "configmaps", true),
    resource("v1", "Service", "services", true),
    resource(
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    resource("v1", "Pod", "pods", true),
    resource("apps/v1", "Deployment", "deployments", true),
    resource("apps/v1", "DaemonSet", "daemonsets", true),
    resource("storage.k8s.io/v1", "StorageClass", "storageclasses", false),
    resource(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    resource(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    resource(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    resource("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    resource(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    resource(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    resource(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    Resource {
        crd: Some("issuers.cert-manager.io"),
        ..resource("cert-manager.io/v1", "Issuer", "issuers", true)
    },
    Resource {
        crd: Some("certificates.cert-manager.io"),
        ..resource("cert-manager.io/v1", "Certificate", "certificates", true)
    },
];

/// How Deployments and DaemonSets behave once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workloads {
    /// Rolled out at once: every replica (every selected node) available.
    BecomeReady,
    /// Never available, as with an image that cannot be pulled.
    NeverReady,
}

/// One request as received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path, percent-decoded.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    /// The body, when there was one (JSON; or a string when it was not JSON).
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// The value of a query parameter.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the request changes (or, dry run aside, would change) the store.
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }

    /// Whether the request changed the store: a write that is not a dry run.
    pub fn is_stored_write(&self) -> bool {
        self.is_write() && self.query_value("dryRun").is_none()
    }

    /// `METHOD /path`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    api_version: String,
    plural: String,
    /// Empty for cluster-scoped objects.
    namespace: String,
    name: String,
}

struct State {
    objects: BTreeMap<Key, Value>,
    requests: Vec<RecordedRequest>,
    violations: Vec<String>,
    workloads: Workloads,
    token: String,
    resource_version: u64,
    uid: u64,
}

/// The running server; stops when dropped.
pub struct FakeApiServer {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl FakeApiServer {
    /// Starts a server with an empty store, expecting the bearer token [`TOKEN`], with
    /// workloads that roll out at once.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            objects: BTreeMap::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            workloads: Workloads::BecomeReady,
            token: TOKEN.to_owned(),
            resource_version: 1,
            uid: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve_connection(stream, &state));
                }
            })
        };
        Self {
            address,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Sets how Deployments and DaemonSets behave from now on.
    pub fn set_workloads(&self, workloads: Workloads) {
        self.lock().workloads = workloads;
    }

    /// Sets the bearer token requests must carry.
    pub fn expect_token(&self, token: &str) {
        token.clone_into(&mut self.lock().token);
    }

    /// A kubeconfig whose context `context` reaches this server with `user` (YAML text).
    pub fn kubeconfig(&self, context: &str, user: &Value) -> String {
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": context, "cluster": { "server": self.url() } }],
            "users": [{ "name": context, "user": user }],
            "contexts": [{ "name": context, "context": { "cluster": context, "user": context } }],
            "current-context": context,
        });
        serde_json::to_string_pretty(&config).expect("kubeconfig serialises")
    }

    /// Writes a kubeconfig for this server with the token [`TOKEN`] into `dir`.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig("fake", &json!({ "token": TOKEN })))
            .expect("write kubeconfig");
        path
    }

    /// Stores an object as if someone else had made it (no request is recorded).
    pub fn insert(&self, object: Value) {
        let api_version = text(&object, "/apiVersion").expect("object has apiVersion");
        let kind = text(&object, "/kind").expect("object has kind");
        let resource = RESOURCES
            .iter()
            .find(|resource| resource.api_version == api_version && resource.kind == kind)
            .unwrap_or_else(|| panic!("the fake API server does not know {api_version} {kind}"));
        let name = text(&object, "/metadata/name").expect("object has a name");
        let namespace = if resource.namespaced {
            text(&object, "/metadata/namespace").expect("namespaced object has a namespace")
        } else {
            String::new()
        };
        let mut state = self.lock();
        let stored = state.created(object, None);
        state.objects.insert(
            Key {
                api_version,
                plural: resource.plural.to_owned(),
                namespace,
                name,
            },
            stored,
        );
    }

    /// A stored object.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let plural = RESOURCES
            .iter()
            .find(|resource| resource.api_version == api_version && resource.kind == kind)?
            .plural;
        self.lock()
            .objects
            .get(&Key {
                api_version: api_version.to_owned(),
                plural: plural.to_owned(),
                namespace: namespace.unwrap_or_default().to_owned(),
                name: name.to_owned(),
            })
            .cloned()
    }

    /// Every stored object, ordered by API version, resource, namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        self.lock().objects.values().cloned().collect()
    }

    /// Every request so far, asserting that none broke the rules.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let state = self.lock();
        assert!(
            state.violations.is_empty(),
            "the fake API server saw requests it must not get:\n{}",
            state.violations.join("\n")
        );
        state.requests.clone()
    }

    /// The rule breaks seen so far, forgetting them (for tests of the server's own checks).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().violations)
    }

    /// Every request so far (checked as [`Self::requests`]), and forgets them.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        let requests = self.requests();
        self.lock().requests.clear();
        requests
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor up so it sees the stop flag.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if !std::thread::panicking() {
            let violations = self.lock().violations.clone();
            assert!(
                violations.is_empty(),
                "the fake API server saw requests it must not get:\n{}",
                violations.join("\n")
            );
        }
    }
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Serves requests on one connection until the client closes it.
fn serve_connection(stream: TcpStream, state: &Mutex<State>) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    while let Some(request) = read_request(&mut reader) {
        let response = {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.handle(&request)
        };
        let body = response.body.to_string();
        // One write per response: a head and a body written apart meet Nagle's algorithm and
        // the client's delayed ACK, which adds 40 ms to every request.
        let message = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            response.code,
            reason_phrase(response.code),
            body.len()
        );
        if writer.write_all(message.as_bytes()).is_err() || writer.flush().is_err() {
            return;
        }
        if request.close {
            return;
        }
    }
}

/// A request as read from the wire.
struct WireRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

impl WireRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<WireRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = WireRequest {
        method,
        target,
        headers,
        body: Vec::new(),
        close: false,
    };
    request.close = request
        .header("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
    if request
        .header("Transfer-Encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = request.header("Content-Length") {
        let mut body = vec![0; length.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        _ => "Error",
    }
}

struct Response {
    code: u16,
    body: Value,
}

fn status(code: u16, reason: &str, message: String) -> Response {
    Response {
        code,
        body: json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }),
    }
}

/// What a request's path names.
struct Target {
    resource: Resource,
    /// The namespace in the path, if any.
    namespace: Option<String>,
    name: Option<String>,
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[index]) {
            (Some(byte), _) => {
                decoded.push(byte);
                index += 3;
            }
            (None, b'+') => {
                decoded.push(b' ');
                index += 1;
            }
            (None, byte) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Parses an equality-only label selector (`a=b,c=d`).
fn parse_selector(selector: &str) -> Option<Vec<(String, String)>> {
    selector
        .split(',')
        .map(|term| {
            let (key, value) = term.split_once('=')?;
            let valid = |part: &str| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
            };
            (valid(key) && valid(value)).then(|| (key.to_owned(), value.to_owned()))
        })
        .collect()
}

fn matches_selector(object: &Value, selector: &[(String, String)]) -> bool {
    selector.iter().all(|(key, value)| {
        object
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(key))
            .and_then(Value::as_str)
            == Some(value.as_str())
    })
}

impl State {
    fn violation(&mut self, request: &RecordedRequest, problem: String) {
        self.violations.push(format!(
            "{} ({:?}): {problem}",
            request.line(),
            request.query
        ));
    }

    fn next_resource_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn is_stored(&self, key: &Key) -> bool {
        self.objects.contains_key(key)
    }

    fn crd_stored(&self, crd: &str) -> bool {
        self.is_stored(&Key {
            api_version: "apiextensions.k8s.io/v1".to_owned(),
            plural: "customresourcedefinitions".to_owned(),
            namespace: String::new(),
            name: crd.to_owned(),
        })
    }

    fn namespace_stored(&self, namespace: &str) -> bool {
        self.is_stored(&Key {
            api_version: "v1".to_owned(),
            plural: "namespaces".to_owned(),
            namespace: String::new(),
            name: namespace.to_owned(),
        })
    }

    fn handle(&mut self, wire: &WireRequest) -> Response {
        let (raw_path, query) = wire.target.split_once('?').unwrap_or((&wire.target, ""));
        let path = percent_decode(raw_path);
        let body = if wire.body.is_empty() {
            None
        } else {
            Some(
                serde_json::from_slice(&wire.body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&wire.body).into())),
            )
        };
        let request = RecordedRequest {
            method: wire.method.clone(),
            path: path.clone(),
            query: parse_query(query),
            content_type: wire.header("Content-Type").map(str::to_owned),
            authorization: wire.header("Authorization").map(str::to_owned),
            body,
        };
        self.requests.push(request.clone());
        let expected = format!("Bearer {}", self.token);
        if request.authorization.as_deref() != Some(expected.as_str()) {
            self.violation(
                &request,
                format!(
                    "Authorization is {:?}, not the kubeconfig's bearer token",
                    request.authorization
                ),
            );
            return status(401, "Unauthorized", "Unauthorized".to_owned());
        }
        let Some(target) = parse_target(&path) else {
            self.violation(&request, "not a path of a known resource".to_owned());
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".to_owned(),
            );
        };
        if let Some(crd) = target.resource.crd
            && !self.crd_stored(crd)
        {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".to_owned(),
            );
        }
        match (request.method.as_str(), &target.name) {
            ("GET", Some(_)) => self.get(&request, &target),
            ("GET", None) => self.list(&request, &target),
            ("PATCH", Some(_))
                if request.content_type.as_deref() == Some(MERGE_PATCH)
                    && target.resource.plural == "serviceaccounts" =>
            {
                self.merge_patch(&request, &target)
            }
            ("PATCH", Some(_)) => self.apply(&request, &target),
            ("DELETE", Some(_)) => self.delete(&request, &target),
            (method, _) => {
                self.violation(
                    &request,
                    format!("{method} is not a request kubectl acr sends"),
                );
                status(405, "MethodNotAllowed", format!("{method} is not allowed"))
            }
        }
    }

    fn allow_query(&mut self, request: &RecordedRequest, allowed: &[&str]) {
        for (key, _) in &request.query {
            if !allowed.contains(&key.as_str()) {
                self.violation(request, format!("unexpected query parameter `{key}`"));
            }
        }
    }

    /// Whether a write is a dry run; `dryRun` may only be `All`.
    fn dry_run(&mut self, request: &RecordedRequest) -> bool {
        match request.query_value("dryRun") {
            None => false,
            Some("All") => true,
            Some(other) => {
                self.violation(request, format!("dryRun={other}, not All"));
                true
            }
        }
    }

    /// The store key of a request naming one object, checking the scope.
    fn object_key(&mut self, request: &RecordedRequest, target: &Target) -> Key {
        if target.resource.namespaced != target.namespace.is_some() {
            self.violation(
                request,
                format!(
                    "{} is {} but the path {} a namespace",
                    target.resource.plural,
                    if target.resource.namespaced {
                        "namespaced"
                    } else {
                        "cluster-scoped"
                    },
                    if target.namespace.is_some() {
                        "names"
                    } else {
                        "does not name"
                    }
                ),
            );
        }
        Key {
            api_version: target.resource.api_version.to_owned(),
            plural: target.resource.plural.to_owned(),
            namespace: target.namespace.clone().unwrap_or_default(),
            name: target.name.clone().unwrap_or_default(),
        }
    }

    fn not_found(target: &Target) -> Response {
        status(
            404,
            "NotFound",
            format!(
                "{} \"{}\" not found",
                target.resource.plural,
                target.name.as_deref().unwrap_or_default()
            ),
        )
    }

    fn get(&mut self, request: &RecordedRequest, target: &Target) -> Response {
        self.allow_query(request, &[]);
        let key = self.object_key(request, target);
        match self.objects.get(&key) {
            Some(object) => Response {
                code: 200,
                body: object.clone(),
            },
            None => Self::not_found(target),
        }
    }

    fn list(&mut self, request: &RecordedRequest, target: &Target) -> Response {
        self.allow_query(request, &["labelSelector", "limit"]);
        let selector = match request.query_value("labelSelector") {
            Some(text) => match parse_selector(text) {
                Some(selector) => selector,
                None => {
                    self.violation(
                        request,
                        format!("label selector `{text}` is not equality-only"),
                    );
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|(key, _)| {
                key.api_version == target.resource.api_version
                    && key.plural == target.resource.plural
                    && target
                        .namespace
                        .as_ref()
                        .is_none_or(|namespace| key.namespace == *namespace)
            })
            .map(|(_, object)| object)
            .filter(|object| matches_selector(object, &selector))
            .cloned()
            .collect();
        Response {
            code: 200,
            body: json!({
                "apiVersion": target.resource.api_version,
                "kind": format!("{}List", target.resource.kind),
                "metadata": { "resourceVersion": self.resource_version.to_string() },
                "items": items,
            }),
        }
    }

    fn apply(&mut self, request: &RecordedRequest, target: &Target) -> Response {
        self.allow_query(request, &["fieldManager", "force", "dryRun"]);
        if request.content_type.as_deref() != Some(APPLY_PATCH) {
            self.violation(
                request,
                format!(
                    "content type {:?}, not {APPLY_PATCH} (server-side apply)",
                    request.content_type
                ),
            );
        }
        if request.query_value("fieldManager") != Some(FIELD_MANAGER) {
            self.violation(request, format!("field manager is not {FIELD_MANAGER}"));
        }
        if request
            .query_value("force")
            .is_some_and(|force| force != "true")
        {
            self.violation(request, "force is given but not true".to_owned());
        }
        let dry_run = self.dry_run(request);
        let key = self.object_key(request, target);
        let Some(Value::Object(body)) = &request.body else {
            self.violation(request, "the body is not a JSON object".to_owned());
            return status(400, "BadRequest", "the body is not an object".to_owned());
        };
        let body = Value::Object(body.clone());
        for (pointer, expected) in [
            ("/apiVersion", Some(target.resource.api_version.to_owned())),
            ("/kind", Some(target.resource.kind.to_owned())),
            ("/metadata/name", target.name.clone()),
        ] {
            if text(&body, pointer) != expected {
                self.violation(
                    request,
                    format!(
                        "body {pointer} is {:?}, the URL says {expected:?}",
                        text(&body, pointer)
                    ),
                );
            }
        }
        if let Some(namespace) = text(&body, "/metadata/namespace")
            && Some(&namespace) != target.namespace.as_ref()
        {
            self.violation(
                request,
                format!("body namespace {namespace} differs from the URL's"),
            );
        }
        if let Some(namespace) = &target.namespace
            && !self.namespace_stored(namespace)
        {
            return status(
                404,
                "NotFound",
                format!("namespaces \"{namespace}\" not found"),
            );
        }
        let old = self.objects.get(&key).cloned();
        let applied = match &old {
            Some(old) => self.updated(old, body),
            None => self.created(body, Some(FIELD_MANAGER)),
        };
        if !dry_run {
            self.objects.insert(key, applied.clone());
        }
        Response {
            code: if old.is_some() { 200 } else { 201 },
            body: applied,
        }
    }

    /// A new object with the server's fields, and a workload status.
    fn created(&mut self, mut object: Value, manager: Option<&str>) -> Value {
        self.uid += 1;
        let resource_version = self.next_resource_version();
        let metadata = metadata_of(&mut object);
        metadata.insert("uid".to_owned(), json!(format!("uid-{}", self.uid)));
        metadata
            .entry("creationTimestamp")
            .or_insert_with(|| json!(CREATED_AT));
        metadata.insert("resourceVersion".to_owned(), json!(resource_version));
        metadata.insert("generation".to_owned(), json!(1));
        if let Some(manager) = manager {
            metadata.insert(
                "managedFields".to_owned(),
                json!([{ "manager": manager, "operation": "Apply" }]),
            );
        }
        self.with_workload_status(object)
    }

    /// The stored object after an apply of `applied`: unchanged (same resourceVersion) when the
    /// apply changes nothing.
    fn updated(&mut self, old: &Value, mut applied: Value) -> Value {
        let old_metadata = old.get("metadata").cloned().unwrap_or_default();
        let metadata = metadata_of(&mut applied);
        for field in [
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "generation",
            "managedFields",
        ] {
            if let Some(value) = old_metadata.get(field) {
                metadata.insert(field.to_owned(), value.clone());
            }
        }
        if let (Some(status), Some(object)) = (old.get("status"), applied.as_object_mut()) {
            object.insert("status".to_owned(), status.clone());
        }
        if applied == *old {
            return applied;
        }
        let spec_changed = applied.get("spec") != old.get("spec");
        let resource_version = self.next_resource_version();
        let metadata = metadata_of(&mut applied);
        metadata.insert("resourceVersion".to_owned(), json!(resource_version));
        if spec_changed {
            let generation = metadata
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            metadata.insert("generation".to_owned(), json!(generation + 1));
            return self.with_workload_status(applied);
        }
        applied
    }

    /// Gives Deployments and DaemonSets the status [`Workloads`] says.
    fn with_workload_status(&self, mut object: Value) -> Value {
        let kind = text(&object, "/kind").unwrap_or_default();
        let generation = object
            .pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1));
        let ready = self.workloads == Workloads::BecomeReady;
        let status = match kind.as_str() {
            "Deployment" => {
                let replicas = object
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let available = if ready { replicas } else { 0 };
                json!({
                    "observedGeneration": generation,
                    "replicas": replicas,
                    "updatedReplicas": replicas,
                    "readyReplicas": available,
                    "availableReplicas": available,
                    "unavailableReplicas": replicas - available,
                    "conditions": [{
                        "type": "Available",
                        "status": if ready { "True" } else { "False" },
                        "reason": if ready { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                        "message": if ready { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
                    }],
                })
            }
            "DaemonSet" => {
                let node_selector = object
                    .pointer("/spec/template/spec/nodeSelector")
                    .and_then(Value::as_object)
                    .map(|labels| {
                        labels
                            .iter()
                            .map(|(key, value)| {
                                (key.clone(), value.as_str().unwrap_or_default().to_owned())
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let nodes = self
                    .objects
                    .iter()
                    .filter(|(key, node)| {
                        key.plural == "nodes" && matches_selector(node, &node_selector)
                    })
                    .count();
                let available = if ready { nodes } else { 0 };
                json!({
                    "observedGeneration": generation,
                    "desiredNumberScheduled": nodes,
                    "currentNumberScheduled": nodes,
                    "updatedNumberScheduled": nodes,
                    "numberReady": available,
                    "numberAvailable": available,
                    "numberMisscheduled": 0,
                })
            }
            _ => return object,
        };
        if let Some(map) = object.as_object_mut() {
            map.insert("status".to_owned(), status);
        }
        object
    }

    /// A JSON merge patch of a ServiceAccount's `imagePullSecrets`, guarded by the
    /// `resourceVersion` it carries.
    fn merge_patch(&mut self, request: &RecordedRequest, target: &Target) -> Response {
        self.allow_query(request, &["fieldManager", "dryRun"]);
        if request.query_value("fieldManager") != Some(FIELD_MANAGER) {
            self.violation(request, format!("field manager is not {FIELD_MANAGER}"));
        }
        let dry_run = self.dry_run(request);
        let patch = request.body.clone().unwrap_or_default();
        let precondition = text(&patch, "/metadata/resourceVersion");
        let mut touched = patch.as_object().cloned().unwrap_or_default();
        touched.remove("imagePullSecrets");
        if precondition.is_none()
            || touched.remove("metadata") != Some(json!({ "resourceVersion": precondition }))
            || !touched.is_empty()
        {
            self.violation(
                request,
                format!("the patch {patch} is not imagePullSecrets guarded by resourceVersion"),
            );
        }
        let key = self.object_key(request, target);
        let Some(old) = self.objects.get(&key).cloned() else {
            return Self::not_found(target);
        };
        if text(&old, "/metadata/resourceVersion") != precondition {
            return status(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{}\": the object has been modified; \
                     please apply your changes to the latest version and try again",
                    target.resource.plural, key.name
                ),
            );
        }
        let mut patched = old.clone();
        merge(&mut patched, &patch);
        if patched != old {
            let resource_version = self.next_resource_version();
            metadata_of(&mut patched).insert("resourceVersion".to_owned(), json!(resource_version));
        }
        if !dry_run {
            self.objects.insert(key, patched.clone());
        }
        Response {
            code: 200,
            body: patched,
        }
    }

    fn delete(&mut self, request: &RecordedRequest, target: &Target) -> Response {
        self.allow_query(request, &[]);
        if let Some(body) = &request.body
            && body.get("propagationPolicy").and_then(Value::as_str) != Some("Background")
        {
            self.violation(
                request,
                format!("delete options {body} do not ask for background propagation"),
            );
        }
        let key = self.object_key(request, target);
        let Some(deleted) = self.objects.remove(&key) else {
            return Self::not_found(target);
        };
        if target.resource.plural == "namespaces" {
            self.objects
                .retain(|stored, _| stored.namespace != key.name);
        }
        Response {
            code: 200,
            body: deleted,
        }
    }
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn metadata_of(object: &mut Value) -> &mut Map<String, Value> {
    let map = object.as_object_mut().expect("objects are JSON objects");
    map.entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("metadata is an object")
}

/// Reads `/api/v1/...` or `/apis/GROUP/VERSION/...` into the resource, namespace and name.
fn parse_target(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (api_version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ((*version).to_owned(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return None,
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", name] => (None, "namespaces", Some(*name)),
        ["namespaces", namespace, plural] => (Some(*namespace), *plural, None),
        ["namespaces", namespace, plural, name] => (Some(*namespace), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return None,
    };
    let resource = *RESOURCES
        .iter()
        .find(|resource| resource.api_version == api_version && resource.plural == plural)?;
    Some(Target {
        resource,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    })
}
