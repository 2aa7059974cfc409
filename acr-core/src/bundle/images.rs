//! The images of a bundle: references as the manifests name them (`REGISTRY/REPOSITORY:TAG`),
//! resolved to the digest their registry (or its mirror, `--registry-mirror`) stores, and the
//! lines of `images.txt`: `REGISTRY/REPOSITORY@sha256:HEX REGISTRY/REPOSITORY:TAG`, the
//! reference to copy (pinned by digest, which `skopeo copy` and `oras copy` accept; skopeo
//! refuses a tag and a digest together) and the name and tag the manifests pull.

use crate::secret::quotable;
use acr_policy::sources::{self, OciReference, RemoteError, Sha256Digest, SourceOptions};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Docker Hub as image names abbreviate it, and the host its API answers on.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// `REGISTRY/REPOSITORY:TAG` with the registry and tag spelled out (`docker.io/library/` and
/// `:latest` when the name leaves them out).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageReference {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

/// An image name that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an image reference `REGISTRY/REPOSITORY:TAG`: {reason}")]
pub struct InvalidImage {
    pub text: String,
    pub reason: &'static str,
}

impl FromStr for ImageReference {
    type Err = InvalidImage;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidImage {
            text: quotable(text),
            reason,
        };
        if text.contains('@') {
            return Err(invalid("it is already pinned by digest"));
        }
        let (first, rest) = text.split_once('/').unwrap_or(("", text));
        let (registry, path) = if first.contains(['.', ':']) || first == "localhost" {
            (first.to_owned(), rest.to_owned())
        } else if first.is_empty() {
            (DOCKER_HUB.to_owned(), format!("library/{rest}"))
        } else {
            (DOCKER_HUB.to_owned(), text.to_owned())
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, tag),
            _ => (path.as_str(), "latest"),
        };
        let reference = Self {
            registry,
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        };
        // The distribution grammar, as the policy sources check it.
        OciReference::from_str(&format!("oci://{}", reference.name()))
            .map_err(|_| invalid("its registry or repository is malformed"))?;
        OciReference::from_str(&format!("oci://{}:{}", reference.name(), reference.tag))
            .map_err(|_| invalid("its tag is malformed"))?;
        Ok(reference)
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.name(), self.tag)
    }
}

impl ImageReference {
    /// `REGISTRY/REPOSITORY`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The digest of the manifest (an index for multi-platform images) the tag stands for, asked
    /// of `mirror` when given, else of the image's own registry.
    pub fn resolve(
        &self,
        mirror: Option<&str>,
        options: &SourceOptions,
    ) -> Result<Sha256Digest, RemoteError> {
        let registry = match mirror {
            Some(mirror) => mirror,
            None if self.registry == DOCKER_HUB => DOCKER_HUB_API,
            None => &self.registry,
        };
        let reference = OciReference {
            registry: registry.to_owned(),
            repository: self.repository.clone(),
            tag: Some(self.tag.clone()),
            digest: None,
        };
        sources::resolve(&reference, options)
    }
}

/// `--registry-mirror REGISTRY=MIRROR`: the registries to ask for the digests of another's
/// images (a pull-through cache or a copy that keeps digests), by the registry the images name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryMirrors(BTreeMap<String, String>);

/// A `--registry-mirror` value that is not `REGISTRY=HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--registry-mirror `{text}` is not REGISTRY=HOST[:PORT] (for example \
     mcr.microsoft.com=mirror.example:5000): {reason}"
)]
pub struct InvalidMirror {
    pub text: String,
    pub reason: &'static str,
}

impl RegistryMirrors {
    /// Reads `REGISTRY=HOST[:PORT]` values; a registry given twice is refused.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidMirror> {
        let mut mirrors = BTreeMap::new();
        for text in values {
            let invalid = |reason| InvalidMirror {
                text: quotable(text),
                reason,
            };
            let (registry, mirror) = text.split_once('=').ok_or_else(|| invalid("no `=`"))?;
            let is_host = |host: &str| {
                !host.is_empty()
                    && host.bytes().all(|byte| {
                        byte.is_ascii_alphanumeric()
                            || matches!(byte, b'.' | b'-' | b':' | b'[' | b']')
                    })
            };
            if !is_host(registry) {
                return Err(invalid(
                    "the registry must be a host name, with an optional port",
                ));
            }
            if !is_host(mirror) {
                return Err(invalid(
                    "the mirror must be a host name or address with an optional port, without \
                     a scheme or path (plain http needs --insecure-http)",
                ));
            }
            if mirrors
                .insert(registry.to_ascii_lowercase(), mirror.to_owned())
                .is_some()
            {
                return Err(invalid("this registry has a mirror already"));
            }
        }
        Ok(Self(mirrors))
    }

    /// The mirror of `registry`, when one is given.
    pub fn of(&self, registry: &str) -> Option<&str> {
        self.0
            .get(&registry.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// An image of the bundle and its digest; a line of `images.txt`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleImage {
    /// `REGISTRY/REPOSITORY:TAG`, as the manifests name it.
    pub image: String,
    /// `sha256:HEX`, the manifest (or index) the tag stood for when the bundle was saved.
    pub digest: String,
}

impl BundleImage {
    pub fn new(image: &ImageReference, digest: Sha256Digest) -> Self {
        Self {
            image: image.to_string(),
            digest: digest.to_string(),
        }
    }

    /// `REGISTRY/REPOSITORY@sha256:HEX REGISTRY/REPOSITORY:TAG`.
    pub fn line(&self) -> String {
        let name = self
            .image
            .rsplit_once(':')
            .map_or(self.image.as_str(), |(name, _)| name);
        format!("{name}@{} {}", self.digest, self.image)
    }

    /// Reads a line of `images.txt`, checking both references and that they name the same
    /// repository.
    pub fn parse_line(line: &str) -> Result<Self, String> {
        let mut words = line.split(' ');
        let (Some(pinned), Some(tagged), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "`{line}` is not `REGISTRY/REPOSITORY@sha256:HEX REGISTRY/REPOSITORY:TAG`"
            ));
        };
        let (name, digest) = pinned
            .split_once('@')
            .ok_or_else(|| format!("`{pinned}` is not pinned by digest (`@sha256:HEX`)"))?;
        let digest: Sha256Digest = digest
            .parse()
            .map_err(|error| format!("`{pinned}`: {error}"))?;
        let image: ImageReference = tagged.parse().map_err(|error| format!("{error}"))?;
        if image.to_string() != tagged || image.name() != name {
            return Err(format!(
                "`{pinned}` and `{tagged}` do not name the same repository in full"
            ));
        }
        Ok(Self::new(&image, digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_are_read_with_registry_and_tag_spelled_out() {
        let image = |text: &str| text.parse::<ImageReference>().map(|i| i.to_string());
        assert_eq!(
            image("mcr.microsoft.com/acr/connected-registry:0.9.0").as_deref(),
            Ok("mcr.microsoft.com/acr/connected-registry:0.9.0")
        );
        assert_eq!(
            image("127.0.0.1:5000/a/b").as_deref(),
            Ok("127.0.0.1:5000/a/b:latest")
        );
        assert_eq!(
            image("busybox:1.36").as_deref(),
            Ok("docker.io/library/busybox:1.36")
        );
        assert_eq!(
            image("jetstack/x:v1").as_deref(),
            Ok("docker.io/jetstack/x:v1")
        );
        assert_eq!(image("localhost/x:v1").as_deref(), Ok("localhost/x:v1"));
        assert!(image("quay.io/a/b@sha256:00").is_err());
        assert!(image("quay.io/A/b:v1").is_err());
        assert!(image("quay.io/a/b:-v1").is_err());
    }

    #[test]
    fn images_txt_lines_pin_by_digest_and_keep_the_tag() {
        let image: ImageReference = "quay.io/jetstack/cert-manager-controller:v1.21.1"
            .parse()
            .expect("image");
        let digest = Sha256Digest::of(b"index");
        let line = BundleImage::new(&image, digest).line();
        assert_eq!(
            line,
            format!(
                "quay.io/jetstack/cert-manager-controller@{digest} \
                 quay.io/jetstack/cert-manager-controller:v1.21.1"
            )
        );
        assert_eq!(
            BundleImage::parse_line(&line).expect("parses"),
            BundleImage::new(&image, digest)
        );
        let refused = |line: &str| BundleImage::parse_line(line).expect_err(line);
        assert!(refused("quay.io/a/b:v1").contains("is not `REGISTRY/REPOSITORY@sha256"));
        assert!(
            refused(&format!("quay.io/a/b:v1@{digest} quay.io/a/b:v1")).contains("do not name")
        );
        assert!(refused(&format!("quay.io/a/c@{digest} quay.io/a/b:v1")).contains("do not name"));
        assert!(refused("quay.io/a/b@sha256:12 quay.io/a/b:v1").contains("not a SHA-256 digest"));
        assert!(refused(&format!("quay.io/a/b@{digest} b:v1")).contains("do not name"));
    }

    #[test]
    fn mirrors_are_registry_equals_host() {
        let mirrors =
            RegistryMirrors::parse(["MCR.microsoft.com=127.0.0.1:5000", "quay.io=m.example"])
                .expect("mirrors");
        assert_eq!(mirrors.of("mcr.microsoft.com"), Some("127.0.0.1:5000"));
        assert_eq!(mirrors.of("quay.io"), Some("m.example"));
        assert_eq!(mirrors.of("docker.io"), None);
        let refused = |text: &str| RegistryMirrors::parse([text]).expect_err(text).to_string();
        assert!(refused("mirror.example").contains("no `=`"));
        assert!(refused("quay.io=https://m.example").contains("without a scheme or path"));
        assert!(
            RegistryMirrors::parse(["quay.io=a", "quay.io=b"])
                .expect_err("twice")
                .to_string()
                .contains("has a mirror already")
        );
    }
}
