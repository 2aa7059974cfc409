//! Proxies from the environment, one rule for every request: [`proxy_for`] picks the proxy of a
//! URL (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, either case) unless `NO_PROXY` ([`NoProxy`])
//! covers its host and port; [`Proxy::tunnel`] opens an HTTP `CONNECT` tunnel through it for
//! callers that shake hands themselves (the registry check's TLS step), sending the proxy URL's
//! credentials as `Proxy-Authorization: Basic`. Credentials never appear in `Debug`, in
//! [`Proxy::authority`] or in an error.

use base64::Engine as _;
use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, TcpStream, ToSocketAddrs as _};
use std::time::{Duration, Instant};

/// The longest answer header read from a proxy.
const ANSWER_LIMIT: usize = 8192;

/// A proxy URL from the environment, split into what is shown and what is secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    url: String,
    /// `http`, `https`, `socks5`, ... lowercased; `http` when the URL names none.
    scheme: String,
    authority: String,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Proxy")
            .field("authority", &self.authority)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Proxy {
    /// Reads `SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/]` (a missing scheme is `http://`, a
    /// missing port 80, or 443 for `https://`); the user and password are percent-decoded.
    pub fn parse(url: &str) -> Self {
        let (scheme, rest) = url
            .split_once("://")
            .map_or(("http".to_owned(), url), |(scheme, rest)| {
                (scheme.to_ascii_lowercase(), rest)
            });
        let rest = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let (userinfo, host) = match rest.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, rest),
        };
        let has_port = host.rsplit_once(':').is_some_and(|(before, port)| {
            !port.is_empty()
                && port.bytes().all(|byte| byte.is_ascii_digit())
                && (!before.contains(':') || before.ends_with(']'))
        });
        let authority = match (has_port, scheme.as_str()) {
            (true, _) => host.to_owned(),
            (false, "https") => format!("{host}:443"),
            (false, _) => format!("{host}:80"),
        };
        let credentials = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (percent_decode(user), percent_decode(password))
        });
        Self {
            url: url.to_owned(),
            scheme,
            authority,
            credentials,
        }
    }

    /// The URL as given, credentials included: for the HTTP client only, never to show.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `HOST:PORT`, without credentials: what reports and errors name.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Opens a `CONNECT target` tunnel (`target` is `HOST:PORT`) through the proxy within
    /// `timeout`, with the URL's credentials as `Proxy-Authorization: Basic`. The stream is
    /// returned once the proxy answers 200; any other answer is an error quoting only its
    /// status line.
    ///
    /// Only `http://` proxies: the request (and so the credentials) would otherwise go in clear
    /// to a proxy that expects TLS or SOCKS, so any other scheme is refused before connecting.
    pub fn tunnel(&self, target: &str, timeout: Duration) -> std::io::Result<TcpStream> {
        if self.scheme != "http" {
            return Err(std::io::Error::other(format!(
                "the proxy {} is a {}:// proxy; this step tunnels only through http:// proxies: \
                 give HTTPS_PROXY=http://HOST:PORT, or add the host to NO_PROXY",
                self.authority, self.scheme
            )));
        }
        let deadline = Instant::now() + timeout;
        let remaining = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        let address = self.authority.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::other(format!("the proxy {} resolves to nothing", self.authority))
        })?;
        let mut stream = TcpStream::connect_timeout(&address, remaining())?;
        stream.set_read_timeout(Some(remaining()))?;
        stream.set_write_timeout(Some(remaining()))?;
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, password)) = &self.credentials {
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") && answer.len() < ANSWER_LIMIT {
            stream.read_exact(&mut byte)?;
            answer.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&answer);
        let status_line = text.lines().next().unwrap_or_default();
        match status_line.split_whitespace().nth(1) {
            Some("200") => Ok(stream),
            Some("407") => Err(std::io::Error::other(format!(
                "the proxy {} refused the tunnel: {}{}",
                self.authority,
                printable(status_line),
                if self.credentials.is_some() {
                    " (it did not accept the credentials in the proxy URL)"
                } else {
                    " (give credentials in the proxy URL: http://USER:PASSWORD@HOST:PORT)"
                }
            ))),
            _ => Err(std::io::Error::other(format!(
                "the proxy {} answered CONNECT with `{}`",
                self.authority,
                printable(status_line)
            ))),
        }
    }
}

/// At most 200 printable characters of an answer line from the network.
fn printable(line: &str) -> String {
    line.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// `text` with its `%XX` escapes decoded (as URLs write user names, passwords and query values);
/// a `%` not followed by two hexadecimal digits stays as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The proxy for `scheme://host:port` as the environment names it (`HTTPS_PROXY` for https,
/// `HTTP_PROXY` for http, else `ALL_PROXY`; either case), unless `NO_PROXY` covers the host.
/// Every client of this stack, and the registry check's own TLS connection, follow this rule.
pub fn proxy_for(scheme: &str, host: &str, port: u16) -> Option<Proxy> {
    let variable = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    };
    let proxy = match scheme {
        "https" => variable(["HTTPS_PROXY", "https_proxy"]),
        "http" => variable(["HTTP_PROXY", "http_proxy"]),
        _ => None,
    }
    .or_else(|| variable(["ALL_PROXY", "all_proxy"]))?;
    let no_proxy = NoProxy::parse(&variable(["NO_PROXY", "no_proxy"]).unwrap_or_default());
    (!no_proxy.covers(host, port)).then(|| Proxy::parse(&proxy))
}

/// A `NO_PROXY` list: comma-separated entries, each
///
/// - `*`: every host;
/// - an IP address (`10.1.2.3`, `::1`, `[::1]`) or a CIDR range (`10.0.0.0/8`, `fd00::/8`):
///   hosts written as an address in it (names are not resolved to match);
/// - a domain, with or without a leading `.` or `*.` (`example.com`, `.example.com`): the domain
///   itself and every name under it;
/// - any of the above with `:PORT` (`registry.example:5000`, `[::1]:8443`): only that port.
///
/// Entries match case-insensitively; an entry that is none of these is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoProxy {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    All,
    Range {
        network: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
    Domain {
        name: String,
        port: Option<u16>,
    },
}

impl NoProxy {
    pub fn parse(list: &str) -> Self {
        Self {
            entries: list.split(',').filter_map(Entry::parse).collect(),
        }
    }

    /// Whether the list covers `host` (a name, or an address with or without brackets) on
    /// `port`.
    pub fn covers(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let address = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            Entry::All => true,
            Entry::Range {
                network,
                prefix,
                port: entry_port,
            } => {
                entry_port.is_none_or(|entry_port| entry_port == port)
                    && address.is_some_and(|address| in_range(address, *network, *prefix))
            }
            Entry::Domain {
                name,
                port: entry_port,
            } => {
                entry_port.is_none_or(|entry_port| entry_port == port)
                    && address.is_none()
                    && (host == *name
                        || host
                            .strip_suffix(name.as_str())
                            .is_some_and(|head| head.ends_with('.')))
            }
        })
    }
}

impl Entry {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if entry == "*" {
            return Some(Self::All);
        }
        let (host, port) = split_port(&entry);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let (address, prefix) = match host.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (host, None),
        };
        if let Ok(network) = address.parse::<IpAddr>() {
            let bits = if network.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(bits);
            return (prefix <= bits).then_some(Self::Range {
                network,
                prefix,
                port,
            });
        }
        let name = host
            .strip_prefix("*.")
            .or_else(|| host.strip_prefix('.'))
            .unwrap_or(host)
            .trim_end_matches('.');
        let valid = !name.is_empty()
            && prefix.is_none()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
        valid.then(|| Self::Domain {
            name: name.to_owned(),
            port,
        })
    }
}

/// `HOST:PORT` into its parts; a bare IPv6 address (several colons, no brackets) has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    match entry.rsplit_once(':') {
        Some((host, port))
            if (!host.contains(':') || host.ends_with(']'))
                && !port.is_empty()
                && port.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            match port.parse() {
                Ok(port) => (host, Some(port)),
                Err(_) => (entry, None),
            }
        }
        _ => (entry, None),
    }
}

/// Whether `address` is in `network/prefix` (an IPv4-mapped IPv6 address counts as IPv4).
fn in_range(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    let (address, network, bits) = match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) => (
            u128::from(address.to_bits()),
            u128::from(network.to_bits()),
            32,
        ),
        (IpAddr::V6(address), IpAddr::V6(network)) => (address.to_bits(), network.to_bits(), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (address >> shift) == (network >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_entries_cover_what_they_name() {
        // (NO_PROXY, host, port, covered)
        let table: &[(&str, &str, u16, bool)] = &[
            ("*", "registry.example", 443, true),
            ("", "registry.example", 443, false),
            (" , ,", "registry.example", 443, false),
            // Domains: with or without a leading `.` or `*.`, the domain and names under it.
            ("example.com", "example.com", 443, true),
            ("example.com", "registry.example.com", 443, true),
            (".example.com", "registry.example.com", 443, true),
            (".example.com", "example.com", 443, true),
            ("*.example.com", "a.b.example.com", 443, true),
            ("example.com", "badexample.com", 443, false),
            ("example.com", "example.com.evil", 443, false),
            ("Example.COM", "REGISTRY.example.com.", 443, true),
            ("other.example, localhost", "localhost", 80, true),
            ("other.example", "registry.example", 443, false),
            // Ports: only the one named.
            ("registry.example:5000", "registry.example", 5000, true),
            ("registry.example:5000", "registry.example", 443, false),
            (".example.com:443", "a.example.com", 443, true),
            // Addresses and CIDR ranges, IPv4 and IPv6, with or without brackets.
            ("127.0.0.1", "127.0.0.1", 443, true),
            ("127.0.0.1", "127.0.0.2", 443, false),
            ("10.0.0.0/8", "10.200.3.4", 443, true),
            ("10.0.0.0/8", "11.0.0.1", 443, false),
            ("192.168.1.0/24", "192.168.1.255", 443, true),
            ("192.168.1.0/24", "192.168.2.1", 443, false),
            ("0.0.0.0/0", "203.0.113.9", 443, true),
            ("10.0.0.0/8", "::ffff:10.1.2.3", 443, true),
            ("127.0.0.1:5000", "127.0.0.1", 5000, true),
            ("127.0.0.1:5000", "127.0.0.1", 5001, false),
            ("::1", "[::1]", 443, true),
            ("[::1]", "::1", 443, true),
            ("[::1]:8443", "[::1]", 8443, true),
            ("[::1]:8443", "[::1]", 443, false),
            ("fd00::/8", "fd12:3456::1", 443, true),
            ("fd00::/8", "fe80::1", 443, false),
            ("2001:db8::/32", "[2001:db8:ffff::1]", 443, true),
            ("::/0", "2001:db8::1", 443, true),
            // A range never matches a name, and a name never matches an address.
            ("10.0.0.0/8", "ten.example", 443, false),
            ("localhost", "127.0.0.1", 443, false),
            // Malformed entries are ignored, not read as covering everything.
            ("10.0.0.0/33", "10.0.0.1", 443, false),
            ("10.0.0.0/x", "10.0.0.1", 443, false),
            ("exa mple.com", "exa mple.com", 443, false),
        ];
        for (list, host, port, covered) in table {
            assert_eq!(
                NoProxy::parse(list).covers(host, *port),
                *covered,
                "NO_PROXY={list:?} host={host} port={port}"
            );
        }
    }

    #[test]
    fn proxy_urls_are_split_and_their_credentials_kept_out_of_sight() {
        let proxy = Proxy::parse("http://us%40er:p%3Ass@proxy.example:3128/");
        assert_eq!(proxy.authority(), "proxy.example:3128");
        assert_eq!(
            proxy.credentials,
            Some(("us@er".to_owned(), "p:ss".to_owned()))
        );
        assert!(!format!("{proxy:?}").contains("p:ss") && !format!("{proxy:?}").contains("p%3Ass"));
        assert_eq!(
            Proxy::parse("proxy.example").authority(),
            "proxy.example:80"
        );
        assert_eq!(Proxy::parse("http://[::1]:3128").authority(), "[::1]:3128");
        assert_eq!(Proxy::parse("http://[::1]").authority(), "[::1]:80");
        assert_eq!(
            Proxy::parse("http://u@p:1").credentials,
            Some(("u".to_owned(), String::new()))
        );
    }

    /// A proxy that requires `Proxy-Authorization: Basic dTpw` (`u:p`), answering 407 otherwise
    /// and 200 (then echoing) when given; returns its port and the headers it saw.
    fn proxy_requiring_auth() -> (u16, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead as _, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut head = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    head.push_str(&line);
                    line.clear();
                }
                let authorized = head
                    .lines()
                    .any(|line| line.eq_ignore_ascii_case("proxy-authorization: basic dTpw"));
                let _ = sender.send(head);
                let answer: &[u8] = if authorized {
                    b"HTTP/1.1 200 Connection established\r\n\r\n"
                } else {
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\n"
                };
                let _ = (&stream).write_all(answer);
            }
        });
        (port, receiver)
    }

    #[test]
    fn tunnels_send_the_proxy_urls_credentials_and_never_show_them() {
        let (port, seen) = proxy_requiring_auth();
        let timeout = Duration::from_secs(5);
        let with = Proxy::parse(&format!("http://u:p@127.0.0.1:{port}"));
        with.tunnel("registry.example:443", timeout)
            .expect("tunnel");
        let head = seen.recv().expect("request");
        assert!(
            head.starts_with("CONNECT registry.example:443 HTTP/1.1\r\n"),
            "{head}"
        );

        let without = Proxy::parse(&format!("http://127.0.0.1:{port}"));
        let error = without
            .tunnel("registry.example:443", timeout)
            .expect_err("407");
        assert_eq!(
            error.to_string(),
            format!(
                "the proxy 127.0.0.1:{port} refused the tunnel: HTTP/1.1 407 Proxy \
                 Authentication Required (give credentials in the proxy URL: \
                 http://USER:PASSWORD@HOST:PORT)"
            )
        );
        let wrong = Proxy::parse(&format!("http://u:hunter2@127.0.0.1:{port}"));
        let error = wrong
            .tunnel("registry.example:443", timeout)
            .expect_err("407")
            .to_string();
        assert!(
            error.ends_with("(it did not accept the credentials in the proxy URL)"),
            "{error}"
        );
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn tunnels_through_tls_or_socks_proxies_are_refused_before_anything_is_sent() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        for scheme in ["https", "HTTPS", "socks5", "socks5h"] {
            let proxy = Proxy::parse(&format!("{scheme}://u:hunter2@127.0.0.1:{port}"));
            let error = proxy
                .tunnel("registry.example:443", Duration::from_secs(5))
                .expect_err("refused")
                .to_string();
            assert_eq!(
                error,
                format!(
                    "the proxy 127.0.0.1:{port} is a {}:// proxy; this step tunnels only \
                     through http:// proxies: give HTTPS_PROXY=http://HOST:PORT, or add the \
                     host to NO_PROXY",
                    scheme.to_ascii_lowercase()
                )
            );
        }
        assert!(
            listener.accept().is_err(),
            "nothing may reach a proxy the tunnel refuses"
        );
        assert_eq!(
            Proxy::parse("https://proxy.example").authority(),
            "proxy.example:443"
        );
    }
}
