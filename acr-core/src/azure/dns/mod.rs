//! A small DNS client for the private-endpoint check: the wire format, one exchange over UDP
//! with a TCP fallback, the server to ask, and following a name's CNAME chain to its addresses.

mod client;
mod lookup;
mod message;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use lookup::{Resolution, resolve};
pub use message::{MessageError, Rcode};
pub use server::{parse_server, resolv_conf_server};

/// Why a DNS question got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("`{text}` is not a DNS server address: {reason}")]
    InvalidServer { text: String, reason: String },
    #[error("cannot read {}", path.display())]
    ResolvConf {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} names no nameserver: pass --dns-server IP[:PORT]", path.display())]
    NoNameserver { path: PathBuf },
    #[error("the DNS server {server} did not answer within {}s", timeout.as_secs_f64())]
    TimedOut {
        server: SocketAddr,
        timeout: Duration,
    },
    #[error("{action} the DNS server {server} failed")]
    Io {
        action: &'static str,
        server: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the answer of the DNS server {server} about {name} is malformed")]
    Malformed {
        server: SocketAddr,
        name: String,
        #[source]
        source: MessageError,
    },
    #[error("the DNS server {server} answered another question than the one asked about {name}")]
    Mismatched { server: SocketAddr, name: String },
    #[error("the system's random number generator failed")]
    Randomness,
}
