//! Following a name through its CNAME chain to the addresses at the end, as a stub resolver
//! does, asking again for the end of the chain when an answer stops at a CNAME.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::DnsError;
use super::client::query;
use super::message::{Rcode, RecordData, RecordType, Response};

/// The longest CNAME chain followed (resolvers give up around here too).
const MAX_CHAIN: usize = 16;

/// Where a name led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The name asked, then each CNAME target in order (lowercase, no trailing dot).
    pub chain: Vec<String>,
    /// The A and AAAA addresses of the last name of the chain.
    pub addresses: Vec<IpAddr>,
    /// The response code of the answer about the last name.
    pub rcode: Rcode,
}

impl Resolution {
    /// The last name of the chain.
    pub fn end(&self) -> &str {
        self.chain.last().map_or("", String::as_str)
    }
}

/// Resolves `name` (A then AAAA) through `server`, each question waiting at most `timeout`.
pub fn resolve(server: SocketAddr, name: &str, timeout: Duration) -> Result<Resolution, DnsError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut chain = vec![name];
    loop {
        let asked = chain.len();
        let answer = query(server, &chain[asked - 1], RecordType::A, timeout)?;
        follow_cnames(&answer, &mut chain);
        let mut addresses = addresses_of(&answer, &chain[chain.len() - 1]);
        let chain_grew = chain.len() > asked;
        if addresses.is_empty() && chain_grew && chain.len() < MAX_CHAIN {
            continue;
        }
        let mut rcode = answer.rcode;
        if answer.rcode == Rcode::NO_ERROR {
            let end = chain[chain.len() - 1].clone();
            let answer = query(server, &end, RecordType::Aaaa, timeout)?;
            addresses.extend(addresses_of(&answer, &end));
            if addresses.is_empty() {
                rcode = answer.rcode;
            }
        }
        return Ok(Resolution {
            chain,
            addresses,
            rcode,
        });
    }
}

/// Appends the CNAME targets the answer gives for the end of `chain`, stopping at a loop.
fn follow_cnames(answer: &Response, chain: &mut Vec<String>) {
    while chain.len() < MAX_CHAIN {
        let end = &chain[chain.len() - 1];
        let target = answer.answers.iter().find_map(|record| match &record.data {
            RecordData::Cname(target) if record.name == *end => Some(target.clone()),
            _ => None,
        });
        match target {
            Some(target) if !chain.contains(&target) => chain.push(target),
            _ => return,
        }
    }
}

fn addresses_of(answer: &Response, name: &str) -> Vec<IpAddr> {
    answer
        .answers
        .iter()
        .filter(|record| record.name == name)
        .filter_map(|record| match record.data {
            RecordData::Address(address) => Some(address),
            _ => None,
        })
        .collect()
}
