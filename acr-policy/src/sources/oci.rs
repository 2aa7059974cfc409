//! A minimal client of the OCI distribution API for policy modules, following the Wasm OCI
//! artifact convention: one layer `application/vnd.wasm.content.layer.v1+wasm`, a config
//! `application/vnd.wasm.config.v1+json`, in an OCI image manifest; and, for air-gap bundles,
//! the digest a container image's tag stands for ([`resolve`]).
//!
//! Pushing uploads each blob monolithically (POST, then PUT with the digest) and then the
//! manifest under a tag. Pulling asks for a manifest by digest and checks the digest of the
//! manifest and of the layer before anything reads them. A registry that answers 401 is
//! answered once, as `acr_net::registry_auth` answers a challenge.

use super::digest::{InvalidDigest, Sha256Digest};
use super::reference::OciReference;
use super::{NetError, RegistryCredentials, RemoteError, SourceOptions};
use acr_net::docker_credentials;
use acr_net::registry_auth::{self, Authorization, Challenge, Login};
use acr_net::{HttpClient, Method, Response, StatusCode, header, percent_encode, read_body};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wasm_guest::Metadata;

/// The media type of the manifests pushed and pulled.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The media type of the one layer: the policy module.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// The media type of the config blob.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v1+json";

/// The largest manifest read, as the distribution spec suggests registries accept.
const MANIFEST_LIMIT: u64 = 4 << 20;
/// The header registries name the digest of a stored manifest in.
const CONTENT_DIGEST_HEADER: &str = "docker-content-digest";
/// What a container image's manifest is asked for as: indexes and manifest lists first, so a
/// multi-platform image resolves to the digest of its index (what `skopeo copy --all` copies),
/// then single-platform manifests.
pub const IMAGE_MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The config blob of the Wasm OCI artifact convention. `created` is fixed, so pushing the same
/// module with the same metadata always gives the same manifest digest.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig<'a> {
    created: &'static str,
    architecture: &'static str,
    /// The convention's value for plain (core) WebAssembly modules.
    os: &'static str,
    layer_digests: [&'a str; 1],
}

/// Pushes `wasm` to the tag of `reference` as a Wasm OCI artifact whose manifest annotations
/// carry the policy's name, version and description, and returns the manifest digest that
/// pins it (see [`OciReference::pinned`]).
pub fn push(
    reference: &OciReference,
    wasm: &[u8],
    metadata: &Metadata,
    options: &SourceOptions,
) -> Result<Sha256Digest, RemoteError> {
    let Some(tag) = reference
        .tag
        .as_deref()
        .filter(|_| reference.digest.is_none())
    else {
        return Err(RemoteError::PushNeedsTag {
            reference: reference.to_string(),
        });
    };
    let mut session = RegistrySession::new(reference, options)?;

    let layer_digest = Sha256Digest::of(wasm);
    let layer_digest_text = layer_digest.to_string();
    let config = serde_json::to_vec(&WasmConfig {
        created: "1970-01-01T00:00:00Z",
        architecture: "wasm",
        os: "wasip1",
        layer_digests: [&layer_digest_text],
    })
    .expect("the config is plain JSON");
    let config_digest = Sha256Digest::of(&config);
    session.upload_blob(config_digest, &config)?;
    session.upload_blob(layer_digest, wasm)?;

    let mut annotations = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_owned(),
            metadata.name.clone(),
        ),
        (
            "org.opencontainers.image.version".to_owned(),
            metadata.version.clone(),
        ),
    ]);
    if !metadata.description.is_empty() {
        annotations.insert(
            "org.opencontainers.image.description".to_owned(),
            metadata.description.clone(),
        );
    }
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST_MEDIA_TYPE.to_owned()),
        config: Descriptor {
            media_type: WASM_CONFIG_MEDIA_TYPE.to_owned(),
            digest: config_digest.to_string(),
            size: byte_len(&config),
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: WASM_LAYER_MEDIA_TYPE.to_owned(),
            digest: layer_digest_text,
            size: byte_len(wasm),
            annotations: BTreeMap::from([(
                "org.opencontainers.image.title".to_owned(),
                format!("{}.wasm", metadata.name),
            )]),
        }],
        annotations,
    };
    let manifest = serde_json::to_vec(&manifest).expect("the manifest is plain JSON");
    session.put_manifest(tag, &manifest)
}

/// Pulls the policy module that `reference` pins by manifest digest, checking the manifest's
/// digest before reading it and the layer's digest before returning it. With a store
/// ([`SourceOptions::store_dir`]), what is already there is not downloaded again.
pub fn pull(reference: &OciReference, options: &SourceOptions) -> Result<Vec<u8>, RemoteError> {
    let digest = reference.digest.ok_or_else(|| RemoteError::NotPinned {
        reference: reference.to_string(),
    })?;
    let store = options.store()?;
    let stored = |digest| match &store {
        Some(store) => store.get(digest),
        None => Ok(None),
    };
    let keep = |digest, bytes: &[u8]| match &store {
        Some(store) => store.put(digest, bytes),
        None => Ok(()),
    };
    let mut session = None;

    let manifest = match stored(digest)? {
        Some(manifest) => manifest,
        None => {
            let manifest = connect(&mut session, reference, options)?.get_manifest(digest)?;
            keep(digest, &manifest)?;
            manifest
        }
    };
    let layer = wasm_layer(reference, &manifest, options.max_module_bytes)?;
    match stored(layer)? {
        Some(module) => Ok(module),
        None => {
            let module = connect(&mut session, reference, options)?.get_layer(layer)?;
            keep(layer, &module)?;
            Ok(module)
        }
    }
}

/// The digest of the manifest `reference` names by tag (or by digest, to check it exists), as
/// the registry stores it: a HEAD of the manifest with [`IMAGE_MANIFEST_ACCEPT`] read for its
/// `Docker-Content-Digest`; when the registry does not say (or says it in another algorithm),
/// a GET of the manifest, whose SHA-256 is the digest and must agree with the header when there
/// is one. The same session as [`pull`]: one client, the registry's login, Docker credentials.
pub fn resolve(
    reference: &OciReference,
    options: &SourceOptions,
) -> Result<Sha256Digest, RemoteError> {
    options.check_online(|| reference.to_string())?;
    let target = match (&reference.digest, &reference.tag) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.clone(),
        (None, None) => "latest".to_owned(),
    };
    RegistrySession::new(reference, options)?.manifest_digest(&target)
}

/// The session in `slot`, opened on first use so that a pull served from the store never
/// touches the network.
fn connect<'slot, 'a>(
    slot: &'slot mut Option<RegistrySession<'a>>,
    reference: &'a OciReference,
    options: &'a SourceOptions,
) -> Result<&'slot mut RegistrySession<'a>, RemoteError> {
    options.check_online(|| reference.to_string())?;
    match slot {
        Some(session) => Ok(session),
        None => Ok(slot.insert(RegistrySession::new(reference, options)?)),
    }
}

/// The digest of the one wasm layer of a (digest-checked) manifest, refused when larger than
/// `limit`.
fn wasm_layer(
    reference: &OciReference,
    manifest: &[u8],
    limit: u64,
) -> Result<Sha256Digest, RemoteError> {
    let invalid = |reason: String| RemoteError::InvalidManifest {
        reference: reference.to_string(),
        reason,
    };
    let manifest: ImageManifest =
        serde_json::from_slice(manifest).map_err(|error| invalid(error.to_string()))?;
    if manifest.schema_version != 2 {
        return Err(invalid(format!(
            "its schemaVersion is {}, not 2",
            manifest.schema_version
        )));
    }
    if let Some(media_type) = manifest
        .media_type
        .as_deref()
        .filter(|media_type| *media_type != OCI_MANIFEST_MEDIA_TYPE)
    {
        return Err(invalid(format!(
            "it is a `{media_type}`, not an OCI image manifest (`{OCI_MANIFEST_MEDIA_TYPE}`)"
        )));
    }
    let wasm_layers: Vec<&Descriptor> = manifest
        .layers
        .iter()
        .filter(|layer| layer.media_type == WASM_LAYER_MEDIA_TYPE)
        .collect();
    let [layer] = wasm_layers.as_slice() else {
        let found: Vec<&str> = manifest
            .layers
            .iter()
            .map(|layer| layer.media_type.as_str())
            .collect();
        return Err(invalid(format!(
            "a policy artifact has exactly one layer of media type `{WASM_LAYER_MEDIA_TYPE}`, \
             but its layers are [{}]",
            found.join(", ")
        )));
    };
    let digest: Sha256Digest = layer
        .digest
        .parse()
        .map_err(|error: InvalidDigest| invalid(format!("its layer digest {error}")))?;
    if layer.size > limit {
        return Err(RemoteError::Net(NetError::TooLarge {
            url: format!("{}/blobs/{digest}", reference.api_base(false)),
            what: "a policy module",
            limit,
        }));
    }
    Ok(digest)
}

fn byte_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).expect("a slice length fits in u64")
}

/// Requests to one repository, with the authorization its registry asked for once found.
struct RegistrySession<'a> {
    client: HttpClient,
    reference: &'a OciReference,
    options: &'a SourceOptions,
    /// The credentials given for this registry, else (looked up at the first challenge) those
    /// Docker keeps for it.
    credentials: Option<RegistryCredentials>,
    docker_looked_up: bool,
    authorization: Option<Authorization>,
}

/// A request to the registry, which may need sending twice (before and after authorizing).
struct RegistryRequest<'b> {
    method: Method,
    url: String,
    headers: Vec<(header::HeaderName, &'b str)>,
    body: Option<&'b [u8]>,
}

impl<'a> RegistrySession<'a> {
    fn new(reference: &'a OciReference, options: &'a SourceOptions) -> Result<Self, RemoteError> {
        Ok(Self {
            client: options.client()?,
            reference,
            options,
            credentials: options
                .registry_credentials
                .get(&reference.registry)
                .cloned(),
            docker_looked_up: false,
            authorization: None,
        })
    }

    fn api_base(&self) -> String {
        self.reference.api_base(self.options.insecure_http)
    }

    fn get_manifest(&mut self, digest: Sha256Digest) -> Result<Vec<u8>, RemoteError> {
        let url = format!("{}/manifests/{digest}", self.api_base());
        let response = self.send(&RegistryRequest {
            method: Method::GET,
            url: url.clone(),
            headers: vec![(header::ACCEPT, OCI_MANIFEST_MEDIA_TYPE)],
            body: None,
        })?;
        if response.status() != StatusCode::OK {
            return Err(RemoteError::status("GET", &url, response));
        }
        let manifest = read_body(response, &url, MANIFEST_LIMIT, "an OCI manifest")?;
        check_digest(
            format!("the manifest of {}", self.reference),
            digest,
            &manifest,
        )?;
        Ok(manifest)
    }

    /// See [`resolve`].
    fn manifest_digest(&mut self, target: &str) -> Result<Sha256Digest, RemoteError> {
        let url = format!("{}/manifests/{target}", self.api_base());
        let request = |method| RegistryRequest {
            method,
            url: url.clone(),
            headers: vec![(header::ACCEPT, IMAGE_MANIFEST_ACCEPT)],
            body: None,
        };
        let head = self.send(&request(Method::HEAD))?;
        if head.status() == StatusCode::OK
            && let Some(digest) = content_digest(&head)
        {
            return Ok(digest);
        }
        let response = self.send(&request(Method::GET))?;
        if response.status() != StatusCode::OK {
            return Err(RemoteError::status("GET", &url, response));
        }
        let announced = content_digest(&response);
        let manifest = read_body(response, &url, MANIFEST_LIMIT, "an OCI manifest")?;
        let actual = Sha256Digest::of(&manifest);
        match announced {
            Some(announced) if announced != actual => Err(RemoteError::DigestMismatch {
                what: format!(
                    "the manifest of {} (its Docker-Content-Digest header)",
                    self.reference
                ),
                expected: announced,
                actual,
            }),
            _ => Ok(actual),
        }
    }

    fn get_layer(&mut self, digest: Sha256Digest) -> Result<Vec<u8>, RemoteError> {
        let url = format!("{}/blobs/{digest}", self.api_base());
        let response = self.send(&RegistryRequest {
            method: Method::GET,
            url: url.clone(),
            headers: Vec::new(),
            body: None,
        })?;
        if response.status() != StatusCode::OK {
            return Err(RemoteError::status("GET", &url, response));
        }
        let layer = read_body(
            response,
            &url,
            self.options.max_module_bytes,
            "a policy module",
        )?;
        check_digest(
            format!("the wasm layer of {}", self.reference),
            digest,
            &layer,
        )?;
        Ok(layer)
    }

    /// Uploads a blob unless the repository has it: POST for an upload location, then one PUT
    /// of the whole blob with its digest.
    fn upload_blob(&mut self, digest: Sha256Digest, bytes: &[u8]) -> Result<(), RemoteError> {
        let blob_url = format!("{}/blobs/{digest}", self.api_base());
        let existing = self.send(&RegistryRequest {
            method: Method::HEAD,
            url: blob_url.clone(),
            headers: Vec::new(),
            body: None,
        })?;
        match existing.status() {
            StatusCode::OK => return Ok(()),
            StatusCode::NOT_FOUND => {}
            _ => return Err(RemoteError::status("HEAD", &blob_url, existing)),
        }

        let uploads_url = format!("{}/blobs/uploads/", self.api_base());
        let started = self.send(&RegistryRequest {
            method: Method::POST,
            url: uploads_url.clone(),
            headers: Vec::new(),
            body: Some(&[]),
        })?;
        if started.status() != StatusCode::ACCEPTED {
            return Err(RemoteError::status("POST", &uploads_url, started));
        }
        let location = started
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| RemoteError::UploadLocation {
                url: uploads_url.clone(),
            })?;
        let separator = if location.contains('?') { '&' } else { '?' };
        let put_url = format!(
            "{}{separator}digest={}",
            self.absolute_url(location),
            percent_encode(&digest.to_string())
        );
        let finished = self.send(&RegistryRequest {
            method: Method::PUT,
            url: put_url.clone(),
            headers: vec![(header::CONTENT_TYPE, "application/octet-stream")],
            body: Some(bytes),
        })?;
        if finished.status() != StatusCode::CREATED {
            return Err(RemoteError::status("PUT", &put_url, finished));
        }
        Ok(())
    }

    /// PUTs `manifest` under `tag` and returns its digest, after checking that the registry
    /// stored it under the same digest when it says which.
    fn put_manifest(&mut self, tag: &str, manifest: &[u8]) -> Result<Sha256Digest, RemoteError> {
        let url = format!("{}/manifests/{tag}", self.api_base());
        let response = self.send(&RegistryRequest {
            method: Method::PUT,
            url: url.clone(),
            headers: vec![(header::CONTENT_TYPE, OCI_MANIFEST_MEDIA_TYPE)],
            body: Some(manifest),
        })?;
        if response.status() != StatusCode::CREATED {
            return Err(RemoteError::status("PUT", &url, response));
        }
        let digest = Sha256Digest::of(manifest);
        match content_digest(&response) {
            Some(stored_as) if stored_as != digest => Err(RemoteError::DigestMismatch {
                what: format!("the manifest pushed to {}", self.reference),
                expected: digest,
                actual: stored_as,
            }),
            _ => Ok(digest),
        }
    }

    /// A `Location` as an absolute URL: registries may answer with a path.
    fn absolute_url(&self, location: &str) -> String {
        if location.starts_with("https://") || location.starts_with("http://") {
            location.to_owned()
        } else {
            let scheme = if self.options.insecure_http {
                "http"
            } else {
                "https"
            };
            format!(
                "{scheme}://{}/{}",
                self.reference.registry,
                location.trim_start_matches('/')
            )
        }
    }

    /// Sends `request`; on a 401 challenge, authorizes as the challenge asks and sends it once
    /// more.
    fn send(&mut self, request: &RegistryRequest<'_>) -> Result<Response, RemoteError> {
        let response = self.send_once(request)?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = Challenge::of(&response).unwrap_or_else(|| Challenge::parse(""));
        if self.credentials.is_none() && !self.docker_looked_up {
            self.docker_looked_up = true;
            self.credentials = docker_credentials::lookup(&self.reference.registry)?.map(|login| {
                RegistryCredentials {
                    username: login.username,
                    password: login.password,
                }
            });
        }
        let login = self.credentials.as_ref().map(|credentials| Login {
            username: &credentials.username,
            password: &credentials.password,
        });
        let authorization = registry_auth::authorize(&self.client, &challenge, login)
            .map_err(|error| self.unauthorized(error.to_string()))?;
        let refused_before = self.authorization.as_ref() == Some(&authorization);
        self.authorization = Some(authorization);
        let response = if refused_before {
            response
        } else {
            self.send_once(request)?
        };
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(match &self.credentials {
                Some(credentials) => format!(
                    "it refused the credentials of `{}` for {} {}",
                    credentials.username, request.method, request.url
                ),
                None => format!(
                    "it refused anonymous access to {} {}",
                    request.method, request.url
                ),
            }));
        }
        Ok(response)
    }

    fn send_once(&self, request: &RegistryRequest<'_>) -> Result<Response, RemoteError> {
        Ok(self
            .client
            .send(request.method.clone(), &request.url, |mut builder| {
                for (name, value) in &request.headers {
                    builder = builder.header(name, *value);
                }
                if let Some(authorization) = &self.authorization {
                    builder = builder.header(header::AUTHORIZATION, authorization.header_value());
                }
                if let Some(body) = request.body {
                    builder = builder.body(body.to_vec());
                }
                builder
            })?)
    }

    fn unauthorized(&self, reason: String) -> RemoteError {
        RemoteError::Unauthorized {
            registry: self.reference.registry.clone(),
            reason,
        }
    }
}

/// The SHA-256 digest an answer's `Docker-Content-Digest` names, when it names one.
fn content_digest(response: &Response) -> Option<Sha256Digest> {
    response
        .headers()
        .get(CONTENT_DIGEST_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn check_digest(what: String, expected: Sha256Digest, bytes: &[u8]) -> Result<(), RemoteError> {
    let actual = Sha256Digest::of(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(RemoteError::DigestMismatch {
            what,
            expected,
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_without_exactly_one_wasm_layer_are_refused() {
        let reference: OciReference = format!("oci://r/p@{}", Sha256Digest::of(b"m"))
            .parse()
            .expect("reference");
        let manifest = |layers: &str| {
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST_MEDIA_TYPE}","config":{{"mediaType":"{WASM_CONFIG_MEDIA_TYPE}","digest":"{d}","size":2}},"layers":[{layers}]}}"#,
                d = Sha256Digest::of(b"{}")
            )
        };
        let layer = |media_type: &str, size: u64| {
            format!(
                r#"{{"mediaType":"{media_type}","digest":"{}","size":{size}}}"#,
                Sha256Digest::of(b"wasm")
            )
        };
        let wasm = layer(WASM_LAYER_MEDIA_TYPE, 4);
        assert_eq!(
            wasm_layer(&reference, manifest(&wasm).as_bytes(), 4).expect("one layer"),
            Sha256Digest::of(b"wasm")
        );
        let error = |text: String, limit| {
            wasm_layer(&reference, text.as_bytes(), limit)
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            error(
                manifest(&layer("application/vnd.oci.image.layer.v1.tar", 4)),
                4
            ),
            format!(
                "the OCI manifest of {reference} is not a policy artifact: a policy artifact has \
                 exactly one layer of media type `{WASM_LAYER_MEDIA_TYPE}`, but its layers are \
                 [application/vnd.oci.image.layer.v1.tar]"
            )
        );
        assert!(
            error(manifest(&format!("{wasm},{wasm}")), 4).ends_with(&format!(
                "but its layers are [{WASM_LAYER_MEDIA_TYPE}, {WASM_LAYER_MEDIA_TYPE}]"
            ))
        );
        assert_eq!(
            error(manifest(&wasm), 3),
            format!(
                "https://r/v2/p/blobs/{} is larger than 3 bytes, the limit for a policy module",
                Sha256Digest::of(b"wasm")
            )
        );
        assert!(
            error(
                manifest(&wasm).replace(OCI_MANIFEST_MEDIA_TYPE, "application/vnd.oci.image.index.v1+json"),
                4
            )
            .ends_with("it is a `application/vnd.oci.image.index.v1+json`, not an OCI image manifest (`application/vnd.oci.image.manifest.v1+json`)")
        );
    }

    /// A plain-HTTP registry answering HEAD with `head` and GET with `get` (whole HTTP/1.1
    /// answers), recording each request's head.
    fn registry(head: String, get: String) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead as _, BufReader, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut request = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    request.push_str(&line);
                    line.clear();
                }
                let answer = if request.starts_with("HEAD ") {
                    &head
                } else {
                    &get
                };
                let _ = sender.send(request);
                let _ = (&stream).write_all(answer.as_bytes());
            }
        });
        (address, receiver)
    }

    fn answer(digest: Option<String>, body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n{}\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            digest.map_or(String::new(), |digest| format!(
                "Docker-Content-Digest: {digest}\r\n"
            )),
            body.len()
        )
    }

    fn resolve_at(address: &str) -> Result<Sha256Digest, RemoteError> {
        let reference: OciReference = format!("oci://{address}/acr/connected-registry:0.9.0")
            .parse()
            .expect("reference");
        resolve(
            &reference,
            &SourceOptions {
                insecure_http: true,
                ..SourceOptions::default()
            },
        )
    }

    #[test]
    fn image_digests_come_from_the_head_answer_with_the_index_types_accepted() {
        let digest = Sha256Digest::of(b"index");
        let (address, requests) = registry(
            answer(Some(digest.to_string()), ""),
            "HTTP/1.1 500 Unused\r\nConnection: close\r\n\r\n".to_owned(),
        );
        assert_eq!(resolve_at(&address).expect("resolved"), digest);
        let head = requests.recv().expect("a request");
        assert!(
            head.starts_with("HEAD /v2/acr/connected-registry/manifests/0.9.0 "),
            "{head}"
        );
        let accept = head
            .lines()
            .find_map(|line| line.strip_prefix("accept: "))
            .unwrap_or_default();
        assert_eq!(accept, IMAGE_MANIFEST_ACCEPT, "{head}");
        assert!(
            requests.try_recv().is_err(),
            "no GET when HEAD names the digest"
        );
    }

    #[test]
    fn without_a_digest_header_the_body_is_hashed_and_a_wrong_header_is_refused() {
        let body = r#"{"schemaVersion":2}"#;
        let silent_head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (address, _) = registry(silent_head.to_owned(), answer(None, body));
        assert_eq!(
            resolve_at(&address).expect("hashed"),
            Sha256Digest::of(body.as_bytes())
        );

        let wrong = Sha256Digest::of(b"another manifest");
        let (address, _) = registry(
            silent_head.to_owned(),
            answer(Some(wrong.to_string()), body),
        );
        let error = resolve_at(&address).expect_err("mismatch");
        assert_eq!(
            error.to_string(),
            format!(
                "the manifest of oci://{address}/acr/connected-registry:0.9.0 (its \
                 Docker-Content-Digest header) has the digest {}, but {wrong} was expected",
                Sha256Digest::of(body.as_bytes())
            )
        );

        let unknown = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#;
        let (address, _) = registry(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
            format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n\
                 {unknown}",
                unknown.len()
            ),
        );
        assert_eq!(
            resolve_at(&address).expect_err("unknown").to_string(),
            format!(
                "GET http://{address}/v2/acr/connected-registry/manifests/0.9.0 answered HTTP 404 \
                 (MANIFEST_UNKNOWN: unknown)"
            )
        );
    }
}
