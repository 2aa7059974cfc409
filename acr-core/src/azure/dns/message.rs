//! The DNS messages of the private-endpoint check, written and read by hickory-proto: one
//! question out with recursion desired, A, AAAA and CNAME answers back with names
//! decompressed. A short, malformed or hostile answer (a cut message, a compression-pointer loop,
//! an overlong name, a bad record length) is a named [`MessageError`], never a panic.

use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{self, Name, RData};
use hickory_proto::serialize::binary::DecodeError;

/// The record types the check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
}

impl RecordType {
    fn wire(self) -> rr::RecordType {
        match self {
            RecordType::A => rr::RecordType::A,
            RecordType::Aaaa => rr::RecordType::AAAA,
        }
    }
}

/// The response code of an answer (RFC 1035 section 4.1.1, RFC 6895).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rcode(pub u8);

impl Rcode {
    pub const NO_ERROR: Rcode = Rcode(0);
    pub const NXDOMAIN: Rcode = Rcode(3);

    /// "NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED", ... or "RCODE n".
    pub fn name(self) -> String {
        match self.0 {
            0 => "NOERROR".to_owned(),
            1 => "FORMERR".to_owned(),
            2 => "SERVFAIL".to_owned(),
            3 => "NXDOMAIN".to_owned(),
            4 => "NOTIMP".to_owned(),
            5 => "REFUSED".to_owned(),
            other => format!("RCODE {other}"),
        }
    }
}

/// What one answer record holds, for the types the check reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    Address(IpAddr),
    Cname(String),
    /// A record of another type, by its type code.
    Other(u16),
}

/// One record of the answer section; names are lowercase without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub data: RecordData,
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub id: u16,
    pub truncated: bool,
    pub rcode: Rcode,
    /// The question it answers: name and type code.
    pub question: Option<(String, u16)>,
    pub answers: Vec<Record>,
}

impl Response {
    /// Whether this is the answer to the query `id` for `name` and `record_type`.
    pub fn answers_query(&self, id: u16, name: &str, record_type: RecordType) -> bool {
        self.id == id
            && self.question.as_ref().is_some_and(|(asked, code)| {
                asked.eq_ignore_ascii_case(name.trim_end_matches('.'))
                    && *code == u16::from(record_type.wire())
            })
    }
}

/// Why a DNS message could not be built or read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MessageError {
    #[error("the message is not valid DNS: {0}")]
    Malformed(#[source] DecodeError),
    #[error("the message is a query, not a response")]
    NotAResponse,
    #[error("`{name}` cannot be asked: {reason}")]
    InvalidName { name: String, reason: String },
}

/// A query for `name` and `record_type` with recursion desired.
pub fn build_query(id: u16, name: &str, record_type: RecordType) -> Result<Vec<u8>, MessageError> {
    let invalid = |reason: String| MessageError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let relative = name.strip_suffix('.').unwrap_or(name);
    if relative.is_empty() {
        return Err(invalid("it is empty".to_owned()));
    }
    let mut wire_name = Name::from_ascii(relative).map_err(|error| invalid(error.to_string()))?;
    wire_name.set_fqdn(true);
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(wire_name, record_type.wire()));
    message.to_vec().map_err(|error| invalid(error.to_string()))
}

/// Reads a response, checking only its structure (the caller matches id and question).
pub fn parse_response(bytes: &[u8]) -> Result<Response, MessageError> {
    let message = Message::from_vec(bytes).map_err(MessageError::Malformed)?;
    if message.metadata.message_type != MessageType::Response {
        return Err(MessageError::NotAResponse);
    }
    Ok(Response {
        id: message.metadata.id,
        truncated: message.metadata.truncation,
        rcode: Rcode(message.metadata.response_code.low()),
        question: message
            .queries
            .first()
            .map(|query| (plain_name(query.name()), u16::from(query.query_type()))),
        answers: message
            .answers
            .iter()
            .map(|record| Record {
                name: plain_name(&record.name),
                data: match &record.data {
                    RData::A(address) => RecordData::Address(IpAddr::V4(address.0)),
                    RData::AAAA(address) => RecordData::Address(IpAddr::V6(address.0)),
                    RData::CNAME(target) => RecordData::Cname(plain_name(&target.0)),
                    other => RecordData::Other(u16::from(other.record_type())),
                },
            })
            .collect(),
    })
}

/// A name as the check compares and prints it: ASCII (other bytes escaped), lowercase, without
/// the trailing dot.
fn plain_name(name: &Name) -> String {
    let text = name.to_lowercase().to_ascii();
    text.strip_suffix('.').unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TYPE_A: u16 = 1;
    const TYPE_CNAME: u16 = 5;
    const TYPE_AAAA: u16 = 28;

    /// Whether `result` is the decoding error `expected` names.
    fn malformed(
        result: Result<Response, MessageError>,
        expected: fn(&DecodeError) -> bool,
    ) -> bool {
        matches!(result, Err(MessageError::Malformed(ref error)) if expected(error))
    }

    proptest! {
        /// Fuzzing: any answer, and a real answer with a byte changed or cut short, is read or
        /// refused without a panic or a loop (compression pointers included).
        #[test]
        fn fuzz_dns_answers_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            position in any::<usize>(),
            byte in any::<u8>(),
            cut in any::<usize>(),
        ) {
            let _ = parse_response(&bytes);
            let mut answer = build_query(7, "registry.privatelink.azurecr.io", RecordType::A)
                .expect("query");
            answer[2] |= 0x80;
            answer[7] = 1;
            answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 5]);
            let at = position % answer.len();
            answer[at] = byte;
            let _ = parse_response(&answer);
            let _ = parse_response(&answer[..cut % (answer.len() + 1)]);
        }
    }

    /// A response header: id 0x1234, QR and RD and RA set, `rcode`, then the counts.
    fn header(flags_low: u8, questions: u16, answers: u16) -> Vec<u8> {
        let mut message = vec![0x12, 0x34, 0x81, flags_low];
        for count in [questions, answers, 0, 0] {
            message.extend_from_slice(&count.to_be_bytes());
        }
        message
    }

    fn record(message: &mut Vec<u8>, name: &[u8], record_type: u16, data: &[u8]) {
        message.extend_from_slice(name);
        message.extend_from_slice(&record_type.to_be_bytes());
        message.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        message.extend_from_slice(&u16::try_from(data.len()).expect("short").to_be_bytes());
        message.extend_from_slice(data);
    }

    /// The answer to an A query for contoso.azurecr.io: a CNAME to
    /// contoso.privatelink.azurecr.io, written with compression pointers, and its address.
    fn compressed_answer() -> Vec<u8> {
        let mut message = header(0x80, 1, 2);
        // Byte 12: the question name.
        message.extend_from_slice(b"\x07contoso\x07azurecr\x02io\x00");
        message.extend_from_slice(&[0, 1, 0, 1]);
        // The CNAME's data: "contoso" "privatelink" then a pointer to "azurecr.io" (byte 20).
        let mut cname = b"\x07contoso\x0bprivatelink".to_vec();
        cname.extend_from_slice(&[0xC0, 20]);
        record(&mut message, &[0xC0, 12], TYPE_CNAME, &cname);
        // The CNAME target starts 12 bytes into the first record (2 name + 10 fixed).
        let target = 12 + 24 + 12;
        record(
            &mut message,
            &[0xC0, u8::try_from(target).expect("small")],
            TYPE_A,
            &[10, 0, 0, 5],
        );
        message
    }

    #[test]
    fn queries_ask_one_question_with_recursion_desired() {
        let query = build_query(0xBEEF, "contoso.azurecr.io.", RecordType::Aaaa).expect("query");
        assert_eq!(&query[..4], &[0xBE, 0xEF, 0x01, 0x00]);
        assert_eq!(&query[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            &query[12..],
            b"\x07contoso\x07azurecr\x02io\x00\x00\x1c\x00\x01"
        );
    }

    #[test]
    fn names_that_cannot_be_asked_are_refused() {
        let long_label = "a".repeat(64);
        let long_name = ["abcdefghi"; 26].join(".");
        for name in ["", ".", "a..b", long_label.as_str(), long_name.as_str()] {
            assert!(
                matches!(
                    build_query(1, name, RecordType::A),
                    Err(MessageError::InvalidName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn compressed_names_are_followed() {
        let response = parse_response(&compressed_answer()).expect("parse");
        assert_eq!(response.id, 0x1234);
        assert!(!response.truncated);
        assert_eq!(response.rcode, Rcode::NO_ERROR);
        assert!(response.answers_query(0x1234, "Contoso.AzureCR.io", RecordType::A));
        assert!(!response.answers_query(0x1235, "contoso.azurecr.io", RecordType::A));
        assert!(!response.answers_query(0x1234, "contoso.azurecr.io", RecordType::Aaaa));
        assert_eq!(
            response.answers,
            [
                Record {
                    name: "contoso.azurecr.io".to_owned(),
                    data: RecordData::Cname("contoso.privatelink.azurecr.io".to_owned()),
                },
                Record {
                    name: "contoso.privatelink.azurecr.io".to_owned(),
                    data: RecordData::Address("10.0.0.5".parse().expect("ip")),
                },
            ]
        );
    }

    #[test]
    fn flags_rcode_and_aaaa_are_read() {
        let mut message = header(0x83, 0, 1);
        message[2] |= 0x02;
        let address: std::net::Ipv6Addr = "fd00::5".parse().expect("ip");
        record(&mut message, b"\x01a\x00", TYPE_AAAA, &address.octets());
        record(&mut message, b"\x01a\x00", 16, b"\x03txt");
        message[7] = 2;
        let response = parse_response(&message).expect("parse");
        assert!(response.truncated);
        assert_eq!(response.rcode, Rcode::NXDOMAIN);
        assert_eq!(response.rcode.name(), "NXDOMAIN");
        assert_eq!(
            response.answers[0].data,
            RecordData::Address(address.into())
        );
        assert_eq!(response.answers[1].data, RecordData::Other(16));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let message = compressed_answer();
        for len in 0..message.len() {
            assert!(
                parse_response(&message[..len]).is_err(),
                "a message cut at {len} bytes parsed"
            );
        }
        assert!(malformed(parse_response(&message[..34]), |error| matches!(
            error,
            DecodeError::InsufficientBytes
        )));
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        assert!(malformed(parse_response(&message), |error| matches!(
            error,
            DecodeError::PointerNotPriorToLabel { idx: 12, ptr: 12 }
        )));
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0xC0, 40, 0, 1, 0, 1]);
        assert!(malformed(parse_response(&message), |error| matches!(
            error,
            DecodeError::PointerNotPriorToLabel { ptr: 40, .. }
        )));
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0x80, 1, 0, 1, 0, 1]);
        assert!(malformed(parse_response(&message), |error| matches!(
            error,
            DecodeError::UnrecognizedLabelCode(_)
        )));
    }

    #[test]
    fn overlong_names_and_bad_address_lengths_are_refused() {
        let mut message = header(0x80, 1, 0);
        for _ in 0..5 {
            message.push(63);
            message.extend_from_slice(&[b'a'; 63]);
        }
        message.push(0);
        message.extend_from_slice(&[0, 1, 0, 1]);
        assert!(malformed(parse_response(&message), |error| matches!(
            error,
            DecodeError::DomainNameTooLong(_)
        )));
        let mut message = header(0x80, 0, 1);
        record(&mut message, b"\x01a\x00", TYPE_A, &[10, 0, 0]);
        let error = parse_response(&message).expect_err("3-byte A");
        assert!(
            error
                .to_string()
                .starts_with("the message is not valid DNS"),
            "{error}"
        );
    }

    #[test]
    fn control_bytes_in_names_come_out_escaped() {
        let mut message = header(0x80, 0, 1);
        record(
            &mut message,
            b"\x04a\x1b[2\x00",
            TYPE_CNAME,
            b"\x03b\nc\x00",
        );
        let response = parse_response(&message).expect("parse");
        let Record { name, data } = &response.answers[0];
        let RecordData::Cname(target) = data else {
            panic!("{data:?}");
        };
        for text in [name, target] {
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        assert!(
            target.starts_with("b\\") && target.ends_with('c'),
            "{target:?}"
        );
    }

    #[test]
    fn queries_are_not_taken_for_answers() {
        let query = build_query(7, "a.b", RecordType::A).expect("query");
        assert!(matches!(
            parse_response(&query),
            Err(MessageError::NotAResponse)
        ));
    }
}
