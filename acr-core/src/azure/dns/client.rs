//! One DNS exchange: the query over UDP, again over TCP when the answer comes back truncated,
//! under a deadline, accepting only the answer whose random id and question match.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::DnsError;
use super::message::{RecordType, Response, build_query, parse_response};

/// The largest DNS message (a TCP answer's length is two bytes).
const MAX_MESSAGE: usize = 65_535;

/// Asks `server` for `record_type` records of `name`, waiting at most `timeout` in all.
pub fn query(
    server: SocketAddr,
    name: &str,
    record_type: RecordType,
    timeout: Duration,
) -> Result<Response, DnsError> {
    let id = random_id()?;
    let exchange = Exchange {
        server,
        query: build_query(id, name, record_type).map_err(|source| DnsError::Malformed {
            server,
            name: name.to_owned(),
            source,
        })?,
        id,
        name,
        record_type,
        deadline: Instant::now() + timeout,
        timeout,
    };
    let answer = exchange.over_udp()?;
    if !answer.truncated {
        return Ok(answer);
    }
    exchange.over_tcp()
}

fn random_id() -> Result<u16, DnsError> {
    let mut bytes = [0u8; 2];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| DnsError::Randomness)?;
    Ok(u16::from_be_bytes(bytes))
}

/// One question to one server under one deadline.
struct Exchange<'a> {
    server: SocketAddr,
    query: Vec<u8>,
    id: u16,
    name: &'a str,
    record_type: RecordType,
    deadline: Instant,
    timeout: Duration,
}

impl Exchange<'_> {
    /// What is left until the deadline, or the timeout error once it has passed.
    fn remaining(&self) -> Result<Duration, DnsError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| self.timed_out())
    }

    fn timed_out(&self) -> DnsError {
        DnsError::TimedOut {
            server: self.server,
            timeout: self.timeout,
        }
    }

    /// The error for a failed `action`; a timeout is reported as such.
    fn io(&self, action: &'static str) -> impl Fn(std::io::Error) -> DnsError + '_ {
        move |source| {
            if is_timeout(&source) {
                self.timed_out()
            } else {
                DnsError::Io {
                    action,
                    server: self.server,
                    source,
                }
            }
        }
    }

    fn matches(&self, answer: &Response) -> bool {
        answer.answers_query(self.id, self.name, self.record_type)
    }

    fn over_udp(&self) -> Result<Response, DnsError> {
        let local: SocketAddr = if self.server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).map_err(self.io("opening a UDP socket for"))?;
        socket
            .connect(self.server)
            .and_then(|()| socket.send(&self.query))
            .map_err(self.io("sending a UDP query to"))?;
        let mut buffer = vec![0u8; MAX_MESSAGE];
        loop {
            socket
                .set_read_timeout(Some(self.remaining()?))
                .map_err(self.io("waiting for the UDP answer of"))?;
            let received = socket
                .recv(&mut buffer)
                .map_err(self.io("reading the UDP answer of"))?;
            // Anything else arriving on the socket (a late or forged answer) is ignored.
            if let Ok(answer) = parse_response(&buffer[..received])
                && self.matches(&answer)
            {
                return Ok(answer);
            }
        }
    }

    fn over_tcp(&self) -> Result<Response, DnsError> {
        let mut stream = TcpStream::connect_timeout(&self.server, self.remaining()?)
            .map_err(self.io("connecting over TCP to"))?;
        let left = self.remaining()?;
        stream
            .set_read_timeout(Some(left))
            .and_then(|()| stream.set_write_timeout(Some(left)))
            .map_err(self.io("connecting over TCP to"))?;
        let length = u16::try_from(self.query.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes();
        stream
            .write_all(&[&length[..], &self.query].concat())
            .map_err(self.io("sending a TCP query to"))?;
        let mut length = [0u8; 2];
        stream
            .read_exact(&mut length)
            .map_err(self.io("reading the TCP answer of"))?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream
            .read_exact(&mut answer)
            .map_err(self.io("reading the TCP answer of"))?;
        let answer = parse_response(&answer).map_err(|source| DnsError::Malformed {
            server: self.server,
            name: self.name.to_owned(),
            source,
        })?;
        if !self.matches(&answer) {
            return Err(DnsError::Mismatched {
                server: self.server,
                name: self.name.to_owned(),
            });
        }
        Ok(answer)
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot UDP server answering with `udp_answer(query)`, and a TCP server on the same
    /// port answering with `tcp_answer(query)`.
    fn serve(
        udp_answers: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
        tcp_answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> SocketAddr {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        let address = tcp.local_addr().expect("address");
        let udp = UdpSocket::bind(address).expect("bind udp on the same port");
        std::thread::spawn(move || {
            let mut buffer = [0u8; 512];
            if let Ok((len, peer)) = udp.recv_from(&mut buffer) {
                for answer in udp_answers(&buffer[..len]) {
                    let _ = udp.send_to(&answer, peer);
                }
            }
        });
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = tcp.accept() {
                let mut length = [0u8; 2];
                if stream.read_exact(&mut length).is_ok() {
                    let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
                    if stream.read_exact(&mut query).is_ok() {
                        let answer = tcp_answer(&query);
                        let length = u16::try_from(answer.len()).expect("short").to_be_bytes();
                        let _ = stream.write_all(&[&length[..], &answer].concat());
                    }
                }
            }
        });
        address
    }

    /// The answer to `query` with the given extra flag bits and one A record.
    fn answer_to(query: &[u8], flags: u8, address: [u8; 4]) -> Vec<u8> {
        let mut answer = query.to_vec();
        answer[2] |= 0x80 | flags;
        answer[7] = 1;
        answer.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        answer.extend_from_slice(&address);
        answer
    }

    #[test]
    fn a_truncated_udp_answer_is_asked_again_over_tcp() {
        let server = serve(
            |query| vec![answer_to(query, 0x02, [192, 0, 2, 1])],
            |query| answer_to(query, 0, [10, 0, 0, 7]),
        );
        let answer =
            query(server, "a.example", RecordType::A, Duration::from_secs(5)).expect("answer");
        assert!(!answer.truncated);
        assert_eq!(
            answer.answers[0].data,
            super::super::message::RecordData::Address("10.0.0.7".parse().expect("ip"))
        );
    }

    #[test]
    fn answers_with_another_id_are_ignored() {
        let server = serve(
            |query| {
                let mut forged = answer_to(query, 0, [203, 0, 113, 9]);
                forged[0] ^= 0xFF;
                vec![forged, answer_to(query, 0, [10, 0, 0, 8])]
            },
            |_| Vec::new(),
        );
        let answer =
            query(server, "a.example", RecordType::A, Duration::from_secs(5)).expect("answer");
        assert_eq!(
            answer.answers[0].data,
            super::super::message::RecordData::Address("10.0.0.8".parse().expect("ip"))
        );
    }

    #[test]
    fn silence_is_a_timeout() {
        let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let server = silent.local_addr().expect("address");
        let err = query(
            server,
            "a.example",
            RecordType::A,
            Duration::from_millis(200),
        )
        .expect_err("no answer");
        assert!(matches!(err, DnsError::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains("did not answer within"), "{err}");
    }
}
