//! The DNS wire format (RFC 1035) for what the private-endpoint check asks: one question out
//! with recursion desired, A, AAAA and CNAME answers back with names decompressed. Every read is
//! bounds-checked, so a short or hostile answer is a [`MessageError`], never a panic.

use std::net::IpAddr;

const HEADER_LEN: usize = 12;
const CLASS_IN: u16 = 1;
const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
/// The QR bit: the message is a response.
const FLAG_RESPONSE: u16 = 0x8000;
/// The TC bit: the answer did not fit and was cut.
const FLAG_TRUNCATED: u16 = 0x0200;
/// The RD bit: recursion desired.
const FLAG_RECURSION_DESIRED: u16 = 0x0100;
/// A name on the wire is at most 255 bytes (RFC 1035 section 2.3.4).
const MAX_NAME_WIRE_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;

/// The record types the check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            RecordType::A => TYPE_A,
            RecordType::Aaaa => TYPE_AAAA,
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
                asked.eq_ignore_ascii_case(name) && *code == record_type.code()
            })
    }
}

/// Why a DNS message could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message ends at byte {len} inside {what} (at byte {offset})")]
    Truncated {
        what: &'static str,
        offset: usize,
        len: usize,
    },
    #[error(
        "the name compression pointer at byte {offset} points to byte {target}, not to an \
         earlier name"
    )]
    BadPointer { offset: usize, target: usize },
    #[error("the name at byte {offset} is longer than 255 bytes")]
    NameTooLong { offset: usize },
    #[error("the label at byte {offset} has the unknown type bits {bits:#04x}")]
    BadLabelType { offset: usize, bits: u8 },
    #[error("the {kind} record of {name} has {length} bytes of data, not {expected}")]
    BadRecordLength {
        kind: &'static str,
        name: String,
        length: usize,
        expected: usize,
    },
    #[error("the message is a query, not a response")]
    NotAResponse,
    #[error("`{name}` cannot be asked: {reason}")]
    InvalidName { name: String, reason: &'static str },
}

/// A query for `name` and `record_type` with recursion desired.
pub fn build_query(id: u16, name: &str, record_type: RecordType) -> Result<Vec<u8>, MessageError> {
    let mut message = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&FLAG_RECURSION_DESIRED.to_be_bytes());
    // One question; no answer, authority or additional records.
    message.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    encode_name(name, &mut message)?;
    message.extend_from_slice(&record_type.code().to_be_bytes());
    message.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(message)
}

fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), MessageError> {
    let invalid = |reason| MessageError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let start = out.len();
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(invalid("it has an empty label"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid("a label is longer than 63 bytes"));
        }
        out.push(u8::try_from(label.len()).map_err(|_| invalid("a label is too long"))?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() - start > MAX_NAME_WIRE_LEN {
        return Err(invalid("it is longer than 255 bytes"));
    }
    Ok(())
}

/// Reads a response, checking only its structure (the caller matches id and question).
pub fn parse_response(message: &[u8]) -> Result<Response, MessageError> {
    let mut reader = Reader { message, offset: 0 };
    let id = reader.u16("the header")?;
    let flags = reader.u16("the header")?;
    let question_count = reader.u16("the header")?;
    let answer_count = reader.u16("the header")?;
    reader.u16("the header")?;
    reader.u16("the header")?;
    if flags & FLAG_RESPONSE == 0 {
        return Err(MessageError::NotAResponse);
    }
    let mut question = None;
    for _ in 0..question_count {
        let name = reader.name()?;
        let code = reader.u16("a question")?;
        reader.u16("a question")?;
        question.get_or_insert((name, code));
    }
    let mut answers = Vec::with_capacity(usize::from(answer_count));
    for _ in 0..answer_count {
        answers.push(reader.record()?);
    }
    Ok(Response {
        id,
        truncated: flags & FLAG_TRUNCATED != 0,
        rcode: Rcode(u8::try_from(flags & 0x000F).unwrap_or_default()),
        question,
        answers,
    })
}

struct Reader<'a> {
    message: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize, what: &'static str) -> Result<&[u8], MessageError> {
        let bytes = slice(self.message, self.offset, count, what)?;
        self.offset += count;
        Ok(bytes)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, MessageError> {
        let bytes = self.take(2, what)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn name(&mut self) -> Result<String, MessageError> {
        let (name, next) = read_name(self.message, self.offset)?;
        self.offset = next;
        Ok(name)
    }

    fn record(&mut self) -> Result<Record, MessageError> {
        let name = self.name()?;
        let record_type = self.u16("a record")?;
        self.take(6, "a record")?;
        let length = usize::from(self.u16("a record")?);
        let data_offset = self.offset;
        let data = self.take(length, "record data")?;
        let address_length = |kind, expected| MessageError::BadRecordLength {
            kind,
            name: name.clone(),
            length,
            expected,
        };
        let data = match record_type {
            TYPE_A => {
                let octets: [u8; 4] = data.try_into().map_err(|_| address_length("A", 4))?;
                RecordData::Address(IpAddr::from(octets))
            }
            TYPE_AAAA => {
                let octets: [u8; 16] = data.try_into().map_err(|_| address_length("AAAA", 16))?;
                RecordData::Address(IpAddr::from(octets))
            }
            TYPE_CNAME => RecordData::Cname(read_name(self.message, data_offset)?.0),
            other => RecordData::Other(other),
        };
        Ok(Record { name, data })
    }
}

fn slice<'a>(
    message: &'a [u8],
    offset: usize,
    count: usize,
    what: &'static str,
) -> Result<&'a [u8], MessageError> {
    offset
        .checked_add(count)
        .and_then(|end| message.get(offset..end))
        .ok_or(MessageError::Truncated {
            what,
            offset,
            len: message.len(),
        })
}

/// Reads the name at `start`, following compression pointers; returns it (lowercase, labels
/// joined by dots, no trailing dot) and the offset after it where it started. A pointer must
/// point before itself, so reading always ends.
fn read_name(message: &[u8], start: usize) -> Result<(String, usize), MessageError> {
    let mut labels: Vec<String> = Vec::new();
    let mut offset = start;
    let mut after_name = None;
    let mut wire_len = 0;
    loop {
        let length = slice(message, offset, 1, "a name")?[0];
        match length & 0xC0 {
            0x00 if length == 0 => {
                after_name.get_or_insert(offset + 1);
                break;
            }
            0x00 => {
                let count = usize::from(length);
                wire_len += count + 1;
                if wire_len + 1 > MAX_NAME_WIRE_LEN {
                    return Err(MessageError::NameTooLong { offset: start });
                }
                let label = slice(message, offset + 1, count, "a label")?;
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                offset += 1 + count;
            }
            0xC0 => {
                let low = slice(message, offset + 1, 1, "a compression pointer")?[0];
                let target = usize::from(length & 0x3F) << 8 | usize::from(low);
                if target >= offset {
                    return Err(MessageError::BadPointer { offset, target });
                }
                after_name.get_or_insert(offset + 2);
                offset = target;
            }
            bits => return Err(MessageError::BadLabelType { offset, bits }),
        }
    }
    Ok((labels.join("."), after_name.unwrap_or(start + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(
            parse_response(&message[..34]),
            Err(MessageError::Truncated {
                what: "a question",
                offset: 34,
                len: 34
            })
        );
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        assert_eq!(
            parse_response(&message),
            Err(MessageError::BadPointer {
                offset: 12,
                target: 12
            })
        );
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0xC0, 40, 0, 1, 0, 1]);
        assert!(matches!(
            parse_response(&message),
            Err(MessageError::BadPointer { target: 40, .. })
        ));
        let mut message = header(0x80, 1, 0);
        message.extend_from_slice(&[0x80, 1, 0, 1, 0, 1]);
        assert_eq!(
            parse_response(&message),
            Err(MessageError::BadLabelType {
                offset: 12,
                bits: 0x80
            })
        );
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
        assert_eq!(
            parse_response(&message),
            Err(MessageError::NameTooLong { offset: 12 })
        );
        let mut message = header(0x80, 0, 1);
        record(&mut message, b"\x01a\x00", TYPE_A, &[10, 0, 0]);
        assert_eq!(
            parse_response(&message).expect_err("3-byte A").to_string(),
            "the A record of a has 3 bytes of data, not 4"
        );
    }

    #[test]
    fn queries_are_not_taken_for_answers() {
        let query = build_query(7, "a.b", RecordType::A).expect("query");
        assert_eq!(parse_response(&query), Err(MessageError::NotAResponse));
    }
}
