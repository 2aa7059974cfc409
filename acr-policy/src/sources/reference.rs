//! OCI references as policy sources write them: `oci://REGISTRY[:PORT]/REPOSITORY[:TAG][@sha256:HEX]`.

use super::digest::Sha256Digest;
use std::fmt;
use std::str::FromStr;

/// A repository in an OCI registry, with a tag, a manifest digest, or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciReference {
    /// `host` or `host:port`; reached over https.
    pub registry: String,
    /// For example `policies/min-key-size`.
    pub repository: String,
    pub tag: Option<String>,
    /// The manifest digest that pins the reference.
    pub digest: Option<Sha256Digest>,
}

/// Text that is not an `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not an OCI reference `oci://REGISTRY/REPOSITORY[:TAG][@sha256:HEX]`: {reason}"
)]
pub struct InvalidOciReference {
    pub text: String,
    pub reason: String,
}

impl OciReference {
    /// The same repository pinned by `digest`, without a tag.
    pub fn pinned(&self, digest: Sha256Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `https://REGISTRY/v2/REPOSITORY` (`http://` with `insecure_http`), where the
    /// distribution API of the repository starts.
    pub(crate) fn api_base(&self, insecure_http: bool) -> String {
        let scheme = if insecure_http { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", self.registry, self.repository)
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(formatter, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(formatter, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for OciReference {
    type Err = InvalidOciReference;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| InvalidOciReference {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| invalid("it does not start with `oci://`"))?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid("it names no repository after the registry"))?;
        if !is_registry(registry) {
            return Err(invalid(
                "the registry must be a host name or address, with an optional port",
            ));
        }
        let (name_and_tag, digest) = match path.split_once('@') {
            Some((name_and_tag, digest)) => (
                name_and_tag,
                Some(
                    digest
                        .parse::<Sha256Digest>()
                        .map_err(|error| invalid(&error.to_string()))?,
                ),
            ),
            None => (path, None),
        };
        let (repository, tag) = match name_and_tag.rsplit_once(':') {
            Some((repository, tag)) => (repository, Some(tag)),
            None => (name_and_tag, None),
        };
        if !repository.split('/').all(is_path_component) {
            return Err(invalid(
                "the repository must be `/`-separated lowercase names of letters, digits and \
                 `.`, `_` or `-` between them",
            ));
        }
        if tag.is_some_and(|tag| !is_tag(tag)) {
            return Err(invalid(
                "a tag is 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
            ));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

fn is_registry(registry: &str) -> bool {
    !registry.is_empty()
        && registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let is_name_char = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    bytes.first().is_some_and(is_name_char)
        && bytes.last().is_some_and(is_name_char)
        && bytes
            .iter()
            .all(|byte| is_name_char(byte) || matches!(byte, b'.' | b'_' | b'-'))
}

fn is_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn references_parse_into_their_parts_and_print_back() {
        let text = format!("oci://127.0.0.1:5000/policies/min-key-size:1.0@{DIGEST}");
        let reference: OciReference = text.parse().expect("parses");
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(reference.repository, "policies/min-key-size");
        assert_eq!(reference.tag.as_deref(), Some("1.0"));
        assert_eq!(
            reference.digest.map(|digest| digest.to_string()).as_deref(),
            Some(DIGEST)
        );
        assert_eq!(reference.to_string(), text);

        let tagged: OciReference = "oci://registry.example/org/p:v2".parse().expect("parses");
        assert_eq!(tagged.digest, None);
        let pinned = tagged.pinned(Sha256Digest::of(b"abc"));
        assert_eq!(
            pinned.to_string(),
            format!("oci://registry.example/org/p@{DIGEST}")
        );
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        let reason = |text: &str| text.parse::<OciReference>().expect_err(text).reason;
        assert_eq!(reason("registry/p"), "it does not start with `oci://`");
        assert_eq!(
            reason("oci://registry"),
            "it names no repository after the registry"
        );
        assert_eq!(
            reason("oci://reg istry/p"),
            "the registry must be a host name or address, with an optional port"
        );
        assert!(reason("oci://r/Policies").starts_with("the repository must be"));
        assert!(reason("oci://r/p//q").starts_with("the repository must be"));
        assert!(reason("oci://r/p:-x").starts_with("a tag is 1 to 128"));
        assert_eq!(
            reason("oci://r/p@sha256:00"),
            "`sha256:00` is not a SHA-256 digest: expected `sha256:` and 64 hexadecimal digits"
        );
    }
}
