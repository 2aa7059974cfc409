//! The decoder `acr_evaluate` reads a review with (and `acr_validate_settings` its settings):
//! a serde JSON deserializer over the text that accepts the JSON serde_json accepts and builds
//! the same values, scanning strings eight bytes at a time, except that it leaves
//! [`LazyJson`](crate::LazyJson) values, such as `facts.cluster`, unchecked: it only finds
//! where they end, and they are checked when a policy parses them. Reading the review is most of an evaluation, and walking over the cluster facts
//! (which no built-in policy reads) was a seventh of it.
//!
//! Other differences from `serde_json::from_str`, both deliberate: map keys are only ever
//! strings (a review's are), and nesting deeper than [`NESTING_LIMIT`] is refused also inside
//! skipped unknown fields.

use crate::lazy_json::LAZY_JSON_TOKEN;
use core::fmt;
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Visitor};

/// The deepest nesting of arrays and objects a review may have (serde_json's limit too).
pub(crate) const NESTING_LIMIT: u32 = 127;

/// Why a review's text did not decode, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub(crate) struct DecodeError {
    message: String,
    line: usize,
    column: usize,
}

/// A problem before it has a place: the decoder's own findings and the errors types raise
/// while they are built (a missing field, an unknown variant), placed by [`from_str`] where
/// decoding stopped.
#[derive(Debug)]
pub(crate) struct Problem(String);

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for Problem {}

impl de::Error for Problem {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }

    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self(format!(
            "invalid type: {}, expected {expected}",
            JsonUnexpected(unexpected)
        ))
    }

    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self(format!(
            "invalid value: {}, expected {expected}",
            JsonUnexpected(unexpected)
        ))
    }
}

/// What was found instead, in serde_json's words: `null` rather than serde's "unit value".
struct JsonUnexpected<'a>(de::Unexpected<'a>);

impl fmt::Display for JsonUnexpected<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        use de::Unexpected;
        // Every case written out, as serde words it: deferring to serde's own `Display` would
        // link core's float formatting into every module for its float case.
        match self.0 {
            Unexpected::Unit => formatter.write_str("null"),
            Unexpected::Float(value) => match serde_json::Number::from_f64(value) {
                Some(number) => write!(formatter, "floating point `{number}`"),
                None => formatter.write_str("floating point"),
            },
            Unexpected::Bool(value) => write!(formatter, "boolean `{value}`"),
            Unexpected::Unsigned(value) => write!(formatter, "integer `{value}`"),
            Unexpected::Signed(value) => write!(formatter, "integer `{value}`"),
            Unexpected::Char(value) => write!(formatter, "character `{value}`"),
            Unexpected::Str(value) => write!(formatter, "string {value:?}"),
            Unexpected::Bytes(_) => formatter.write_str("byte array"),
            Unexpected::Option => formatter.write_str("Option value"),
            Unexpected::NewtypeStruct => formatter.write_str("newtype struct"),
            Unexpected::Seq => formatter.write_str("sequence"),
            Unexpected::Map => formatter.write_str("map"),
            Unexpected::Enum => formatter.write_str("enum"),
            Unexpected::UnitVariant => formatter.write_str("unit variant"),
            Unexpected::NewtypeVariant => formatter.write_str("newtype variant"),
            Unexpected::TupleVariant => formatter.write_str("tuple variant"),
            Unexpected::StructVariant => formatter.write_str("struct variant"),
            Unexpected::Other(other) => formatter.write_str(other),
        }
    }
}

type Result<T> = core::result::Result<T, Problem>;

/// Decodes `text` as one JSON value of type `T`, with nothing but whitespace after it.
pub(crate) fn from_str<'de, T: de::Deserialize<'de>>(
    text: &'de str,
) -> core::result::Result<T, DecodeError> {
    let mut decoder = Decoder {
        text,
        position: 0,
        depth: 0,
    };
    let decoded = T::deserialize(&mut decoder).and_then(|value| match decoder.peek() {
        None => Ok(value),
        Some(_) => Err(problem("trailing characters")),
    });
    decoded.map_err(|Problem(message)| {
        let before = &text.as_bytes()[..decoder.position.min(text.len())];
        let line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        DecodeError {
            message,
            line,
            column: before.len() - line_start + 1,
        }
    })
}

fn problem(message: &str) -> Problem {
    Problem(message.to_owned())
}

/// A string as read: borrowed from the text when it holds no escapes.
enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

struct Decoder<'de> {
    text: &'de str,
    /// Byte offset of the next unread byte.
    position: usize,
    /// Arrays and objects open around `position`.
    depth: u32,
}

impl<'de> Decoder<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&byte) = bytes.get(self.position) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.position += 1;
        }
        None
    }

    /// Consumes `expected` as the next byte that is not whitespace.
    fn expect(&mut self, expected: u8, message: &str) -> Result<()> {
        if self.peek() == Some(expected) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(message))
        }
    }

    /// `message`, or end of input if that is what came instead.
    fn unexpected(&mut self, message: &str) -> Problem {
        if self.peek().is_none() {
            problem("EOF while parsing a value")
        } else {
            problem(message)
        }
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        if self.bytes()[self.position..].starts_with(word.as_bytes()) {
            self.position += word.len();
            Ok(())
        } else {
            Err(problem("expected value"))
        }
    }

    fn open(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > NESTING_LIMIT {
            return Err(problem("recursion limit exceeded"));
        }
        self.position += 1;
        Ok(())
    }

    fn close(&mut self, bracket: u8, message: &str) -> Result<()> {
        self.expect(bracket, message)?;
        self.depth -= 1;
        Ok(())
    }

    /// Reads the string whose opening quote was just consumed, through its closing quote.
    fn string(&mut self) -> Result<Text<'de>> {
        let text = self.text;
        let bytes = self.bytes();
        let mut segment_start = self.position;
        let mut owned: Option<String> = None;
        loop {
            let stop = string_stop(bytes, self.position);
            match bytes.get(stop) {
                Some(b'"') => {
                    self.position = stop + 1;
                    let tail = &text[segment_start..stop];
                    return Ok(match owned {
                        None => Text::Borrowed(tail),
                        Some(mut string) => {
                            string.push_str(tail);
                            Text::Owned(string)
                        }
                    });
                }
                Some(b'\\') => {
                    let string = owned.get_or_insert_with(String::new);
                    string.push_str(&text[segment_start..stop]);
                    self.position = stop + 1;
                    string.push(self.escape()?);
                    segment_start = self.position;
                }
                Some(_) => {
                    self.position = stop;
                    return Err(problem(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                None => {
                    self.position = bytes.len();
                    return Err(problem("EOF while parsing a string"));
                }
            }
        }
    }

    /// Reads the escape whose backslash was just consumed.
    fn escape(&mut self) -> Result<char> {
        let Some(&byte) = self.bytes().get(self.position) else {
            return Err(problem("EOF while parsing a string"));
        };
        self.position += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => {
                self.position -= 1;
                return Err(problem("invalid escape"));
            }
        })
    }

    /// Reads the four hex digits after `\u`, and the low surrogate's escape after a high one.
    fn unicode_escape(&mut self) -> Result<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes()[self.position..].starts_with(b"\\u") {
                    return Err(problem("lone leading surrogate in hex escape"));
                }
                self.position += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(problem("lone leading surrogate in hex escape"));
                }
                0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(problem("lone trailing surrogate in hex escape")),
            _ => u32::from(first),
        };
        char::from_u32(code).ok_or_else(|| problem("invalid unicode code point"))
    }

    fn hex4(&mut self) -> Result<u16> {
        let Some(digits) = self.bytes().get(self.position..self.position + 4) else {
            self.position = self.bytes().len();
            return Err(problem("EOF while parsing a string"));
        };
        let mut value = 0u16;
        for &digit in digits {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return Err(problem("invalid escape")),
            };
            value = value << 4 | u16::from(nibble);
        }
        self.position += 4;
        Ok(value)
    }

    /// Consumes a number, checked against JSON's grammar; says whether it has a fraction or an
    /// exponent.
    fn scan_number(&mut self) -> Result<bool> {
        let bytes = self.bytes();
        let digits_from = |mut at: usize| {
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            at
        };
        let mut at = self.position;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => at = digits_from(at + 1),
            _ => {
                self.position = at;
                return Err(self.unexpected("invalid number"));
            }
        }
        let mut fractional = false;
        if bytes.get(at) == Some(&b'.') {
            fractional = true;
            let end = digits_from(at + 1);
            if end == at + 1 {
                self.position = end;
                return Err(self.unexpected("invalid number"));
            }
            at = end;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            fractional = true;
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let end = digits_from(at);
            if end == at {
                self.position = end;
                return Err(self.unexpected("invalid number"));
            }
            at = end;
        }
        self.position = at;
        Ok(fractional)
    }

    /// Reads a number and hands it to `visitor` as serde_json would: `u64` for non-negative
    /// integers, `i64` for negative ones, `f64` for the rest (and for `-0` and integers
    /// outside 64 bits).
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let start = self.position;
        let fractional = self.scan_number()?;
        let text = &self.text[start..self.position];
        if !fractional {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, text),
            };
            let magnitude = digits.bytes().try_fold(0u64, |value, digit| {
                value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
            });
            match (negative, magnitude) {
                (false, Some(value)) => return visitor.visit_u64(value),
                (true, Some(value)) if value != 0 && value <= 1 << 63 => {
                    return visitor.visit_i64((value as i64).wrapping_neg());
                }
                _ => {}
            }
        }
        // serde_json's own float parse: the same value serde_json would read, and no second
        // float parser in every module.
        match serde_json::from_str::<f64>(text) {
            Ok(value) => visitor.visit_f64(value),
            Err(_) => {
                self.position = start;
                Err(problem("number out of range"))
            }
        }
    }

    /// Reads `true` or `false`, whose first letter is next.
    fn boolean<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        if self.peek() == Some(b't') {
            self.literal("true")?;
            visitor.visit_bool(true)
        } else {
            self.literal("false")?;
            visitor.visit_bool(false)
        }
    }

    /// Reads the string whose opening quote is next.
    fn string_value<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.position += 1;
        match self.string()? {
            Text::Borrowed(text) => visitor.visit_borrowed_str(text),
            Text::Owned(text) => visitor.visit_string(text),
        }
    }

    /// Reads the array whose opening bracket is next.
    fn array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.entries(b']', |entries| visitor.visit_seq(entries))
    }

    /// Reads the object whose opening brace is next.
    fn object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.entries(b'}', |entries| visitor.visit_map(entries))
    }

    /// Opens the array or object next, lets `read` take its entries, and closes it with `close`.
    fn entries<T>(
        &mut self,
        close: u8,
        read: impl FnOnce(Entries<'_, 'de>) -> Result<T>,
    ) -> Result<T> {
        self.open()?;
        let value = read(Entries {
            decoder: &mut *self,
            first: true,
        })?;
        self.close(close, "trailing characters")?;
        Ok(value)
    }

    /// The error for a value other than `expected` coming next, naming what it is as serde_json
    /// does. Not generic over the visitor, so that the type-directed methods do not each carry
    /// a whole `deserialize_any`.
    fn invalid_type(&mut self, expected: &dyn de::Expected) -> Problem {
        let found = match self.peek() {
            Some(b'n') => self.literal("null").map(|()| de::Unexpected::Unit),
            Some(b't') => self.literal("true").map(|()| de::Unexpected::Bool(true)),
            Some(b'f') => self.literal("false").map(|()| de::Unexpected::Bool(false)),
            Some(b'-' | b'0'..=b'9') => {
                return match self.number(FoundNumber) {
                    Ok(number) => de::Error::invalid_type(number.unexpected(), expected),
                    Err(error) => error,
                };
            }
            Some(b'"') => {
                self.position += 1;
                return match self.string() {
                    Ok(Text::Borrowed(text)) => {
                        de::Error::invalid_type(de::Unexpected::Str(text), expected)
                    }
                    Ok(Text::Owned(text)) => {
                        de::Error::invalid_type(de::Unexpected::Str(&text), expected)
                    }
                    Err(error) => error,
                };
            }
            Some(b'[') => Ok(de::Unexpected::Seq),
            Some(b'{') => Ok(de::Unexpected::Map),
            _ => Err(self.unexpected("expected value")),
        };
        match found {
            Ok(unexpected) => de::Error::invalid_type(unexpected, expected),
            Err(error) => error,
        }
    }

    /// Reads a number if one is next, and otherwise whatever is, for the visitor to refuse.
    fn deserialize_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    /// Consumes one value, checked to be JSON, building nothing.
    fn skip_value(&mut self) -> Result<()> {
        let outer_depth = self.depth;
        // Bit n says whether the n-th container opened here is an object.
        let mut objects: u128 = 0;
        loop {
            match self.peek() {
                Some(b'{') => {
                    objects |= 1 << (self.depth - outer_depth);
                    self.open()?;
                    if self.peek() == Some(b'}') {
                        self.position += 1;
                        self.depth -= 1;
                    } else {
                        self.skip_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    objects &= !(1 << (self.depth - outer_depth));
                    self.open()?;
                    if self.peek() == Some(b']') {
                        self.position += 1;
                        self.depth -= 1;
                    } else {
                        continue;
                    }
                }
                Some(b'"') => {
                    self.position += 1;
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.scan_number()?;
                }
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'n') => self.literal("null")?,
                _ => return Err(self.unexpected("expected value")),
            }
            // A value ended: close the containers it ends, until one has another member.
            loop {
                if self.depth == outer_depth {
                    return Ok(());
                }
                let in_object = objects & 1 << (self.depth - 1 - outer_depth) != 0;
                match self.peek() {
                    Some(b',') => {
                        self.position += 1;
                        if in_object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {
                        self.position += 1;
                        self.depth -= 1;
                    }
                    Some(b']') if !in_object => {
                        self.position += 1;
                        self.depth -= 1;
                    }
                    _ if in_object => return Err(self.unexpected("expected `,` or `}`")),
                    _ => return Err(self.unexpected("expected `,` or `]`")),
                }
            }
        }
    }

    /// Consumes one value, finding only where it ends: where its brackets balance, outside
    /// strings, or for a bare scalar, the next delimiter. Whether it is JSON is left unchecked.
    fn skip_unchecked(&mut self) -> Result<()> {
        let bytes = self.bytes();
        let mut depth = 0usize;
        let mut at = self.position;
        loop {
            let Some(&byte) = bytes.get(at) else {
                self.position = at;
                return Err(problem("EOF while parsing a value"));
            };
            at += 1;
            match byte {
                b'"' => loop {
                    let stop = string_stop(bytes, at);
                    match bytes.get(stop) {
                        Some(b'"') => {
                            at = stop + 1;
                            break;
                        }
                        Some(b'\\') => at = stop + 2,
                        Some(_) => at = stop + 1,
                        None => {
                            self.position = bytes.len();
                            return Err(problem("EOF while parsing a string"));
                        }
                    }
                },
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        self.position = at - 1;
                        return Err(problem("expected value"));
                    }
                    depth -= 1;
                }
                _ if depth == 0 => {
                    while bytes.get(at).is_some_and(|byte| {
                        !matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                    }) {
                        at += 1;
                    }
                }
                _ => {}
            }
            if depth == 0 {
                self.position = at;
                return Ok(());
            }
        }
    }

    /// Whether the array or object being read, which `close` ends, has another member; consumes
    /// the comma before each member but the first.
    fn another_member(&mut self, first: &mut bool, close: u8, message: &str) -> Result<bool> {
        match self.peek() {
            Some(byte) if byte == close => return Ok(false),
            Some(b',') if !*first => {
                self.position += 1;
                if self.peek() == Some(close) {
                    return Err(problem("trailing comma"));
                }
            }
            _ if !*first => return Err(self.unexpected(message)),
            _ => {}
        }
        *first = false;
        Ok(true)
    }

    /// Consumes an object's key and the colon after it.
    fn skip_key(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => {
                self.position += 1;
                self.string()?;
                self.expect(b':', "expected `:`")
            }
            Some(b'}') => Err(problem("trailing comma")),
            _ => Err(self.unexpected("key must be a string")),
        }
    }
}

/// The offset of the first byte at or after `from` that ends a run of plain string bytes: a
/// quote, a backslash or a control character; `bytes.len()` if none does. Eight bytes at a
/// time, as a 64-bit word (a native integer in WebAssembly too).
fn string_stop(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH_BITS: u64 = ONES << 7;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quotes = word ^ (ONES * u64::from(b'"'));
        let backslashes = word ^ (ONES * u64::from(b'\\'));
        // (x - 0x01..) & !x has the high bit set in the lowest byte of x that is zero (and
        // perhaps in bytes above it); (x - 0x20..) & !x likewise in the lowest byte below 0x20.
        let stops = (quotes.wrapping_sub(ONES) & !quotes
            | backslashes.wrapping_sub(ONES) & !backslashes
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGH_BITS;
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = Problem;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'n') => {
                self.literal("null")?;
                visitor.visit_unit()
            }
            Some(b't' | b'f') => self.boolean(visitor),
            Some(b'"') => self.string_value(visitor),
            Some(b'-' | b'0'..=b'9') => self.number(visitor),
            Some(b'[') => self.array(visitor),
            Some(b'{') => self.object(visitor),
            _ => Err(self.unexpected("expected value")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b't' | b'f') => self.boolean(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'"') => self.string_value(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'[') => self.array(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'{') => self.object(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek() {
            Some(b'{') => self.object(visitor),
            Some(b'[') => self.array(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_number(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_number(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_number(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name != LAZY_JSON_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        self.peek();
        let start = self.position;
        self.skip_unchecked()?;
        visitor.visit_borrowed_str(&self.text[start..self.position])
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek() {
            Some(b'"') => {
                self.position += 1;
                match self.string()? {
                    Text::Borrowed(text) => {
                        visitor.visit_enum(BorrowedStrDeserializer::<Problem>::new(text))
                    }
                    Text::Owned(text) => {
                        visitor.visit_enum(StringDeserializer::<Problem>::new(text))
                    }
                }
            }
            Some(b'{') => {
                self.open()?;
                let value = visitor.visit_enum(Variant {
                    decoder: &mut *self,
                })?;
                self.close(b'}', "expected `}`")?;
                Ok(value)
            }
            _ => Err(self.unexpected("expected value")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u128 f32 f64 char bytes byte_buf unit_struct tuple
        tuple_struct
    }
}

/// A number as read, for naming it in an error.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    fn unexpected(&self) -> de::Unexpected<'static> {
        match *self {
            Self::Unsigned(value) => de::Unexpected::Unsigned(value),
            Self::Signed(value) => de::Unexpected::Signed(value),
            Self::Float(value) => de::Unexpected::Float(value),
        }
    }
}

/// Takes a number as [`Decoder::number`] hands it over.
struct FoundNumber;

impl Visitor<'_> for FoundNumber {
    type Value = Number;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number")
    }

    fn visit_u64<E>(self, value: u64) -> core::result::Result<Number, E> {
        Ok(Number::Unsigned(value))
    }

    fn visit_i64<E>(self, value: i64) -> core::result::Result<Number, E> {
        Ok(Number::Signed(value))
    }

    fn visit_f64<E>(self, value: f64) -> core::result::Result<Number, E> {
        Ok(Number::Float(value))
    }
}

/// An array's elements or an object's members, as they are read.
struct Entries<'a, 'de> {
    decoder: &'a mut Decoder<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Entries<'_, 'de> {
    type Error = Problem;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self
            .decoder
            .another_member(&mut self.first, b']', "expected `,` or `]`")?
        {
            return Ok(None);
        }
        seed.deserialize(&mut *self.decoder).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de> {
    type Error = Problem;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self
            .decoder
            .another_member(&mut self.first, b'}', "expected `,` or `}`")?
        {
            return Ok(None);
        }
        key(self.decoder, seed).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.decoder.expect(b':', "expected `:`")?;
        seed.deserialize(&mut *self.decoder)
    }
}

/// Reads an object's key, which must be a string, into `seed`.
fn key<'de, K: DeserializeSeed<'de>>(decoder: &mut Decoder<'de>, seed: K) -> Result<K::Value> {
    if decoder.peek() != Some(b'"') {
        return Err(decoder.unexpected("key must be a string"));
    }
    decoder.position += 1;
    match decoder.string()? {
        Text::Borrowed(text) => seed.deserialize(BorrowedStrDeserializer::<Problem>::new(text)),
        Text::Owned(text) => seed.deserialize(StringDeserializer::<Problem>::new(text)),
    }
}

/// An enum written as `{"Variant": value}`.
struct Variant<'a, 'de> {
    decoder: &'a mut Decoder<'de>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = Problem;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let variant = key(self.decoder, seed)?;
        self.decoder.expect(b':', "expected `:`")?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Problem;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self.decoder)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.decoder)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.decoder, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.decoder, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::Review;
    use serde::Deserialize;
    use serde_json::Value;

    /// Decodes `text` both ways and checks the decoder agrees with serde_json: the same value,
    /// or an error from both. Returns the decoder's answer.
    fn agrees<T>(text: &str) -> core::result::Result<T, DecodeError>
    where
        T: for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let ours = from_str::<T>(text);
        let reference = serde_json::from_str::<T>(text);
        match (&ours, &reference) {
            (Ok(ours), Ok(reference)) => assert_eq!(ours, reference, "decoding {text:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("decoding {text:?}: decoder {ours:?}, serde_json {reference:?}"),
        }
        ours
    }

    #[test]
    fn decodes_every_kind_of_value_as_serde_json_does() {
        let accepted = [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "7",
            "-7",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1.5",
            "-0.25e-3",
            "6.02214076E23",
            "1e-400",
            r#""""#,
            r#""plain text, longer than one word of eight bytes""#,
            r#""quote \" backslash \\ slash \/ \b\f\n\r\t end""#,
            r#""\u00e9\u4e2d\uD83D\uDE00 and é中😀""#,
            "[]",
            "[1, [2, [3]], {}]",
            "{}",
            "{ \"a\" : 1 , \"b\" : [ true , null ] , \"a\\u0062\" : { } }",
            "\n\t\r {\"nested\": {\"deeper\": [\"x\", -1.0e+2]}}\n",
        ];
        for text in accepted {
            agrees::<Value>(text).unwrap_or_else(|error| panic!("{text:?} refused: {error}"));
        }
        let refused = [
            "",
            "   ",
            "nul",
            "truth",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "1e400",
            "-1e400",
            "\"open",
            "\"control \u{1} character\"",
            r#""bad \x escape""#,
            r#""\u12""#,
            r#""\uD83D alone""#,
            r#""\uDE00 trailing""#,
            r#""\uD83D\u0041""#,
            "[1,]",
            "[1 2]",
            "[",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":1",
            "{1:2}",
            "1 2",
            "[] x",
        ];
        for text in refused {
            assert!(agrees::<Value>(text).is_err(), "{text:?} accepted");
        }
    }

    /// A small deterministic generator (xorshift) of JSON documents.
    struct Documents(u64);

    impl Documents {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }

        fn string(&mut self) -> String {
            const PIECES: [&str; 12] = [
                "a", "registry", " ", "\"", "\\", "\n", "\u{1}", "é", "中", "😀", "/", "\u{7f}",
            ];
            (0..self.below(24))
                .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
                .collect()
        }

        fn value(&mut self, depth: u32) -> Value {
            let kinds = if depth >= 5 { 6 } else { 8 };
            match self.below(kinds) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 1),
                2 => Value::from(self.next()),
                3 => Value::from(-(self.below(1 << 62) as i64)),
                4 => Value::from(f64::from_bits(self.next() >> 2) * 1e-200),
                5 => Value::String(self.string()),
                6 => (0..self.below(5)).map(|_| self.value(depth + 1)).collect(),
                _ => Value::Object(
                    (0..self.below(5))
                        .map(|_| (self.string(), self.value(depth + 1)))
                        .collect(),
                ),
            }
        }
    }

    #[test]
    fn random_documents_and_their_corruptions_decode_as_with_serde_json() {
        let mut documents = Documents(0x9E37_79B9_7F4A_7C15);
        let mut refused = 0;
        for round in 0..400 {
            let value = documents.value(0);
            let compact = serde_json::to_string(&value).expect("serialises");
            let pretty = serde_json::to_string_pretty(&value).expect("serialises");
            // Equal to what serde_json reads, which is not always `value`: its default float
            // parse can be a unit in the last place off.
            assert!(agrees::<Value>(&compact).is_ok());
            assert!(agrees::<Value>(&pretty).is_ok());
            for _ in 0..8 {
                let mut bytes = if round % 2 == 0 {
                    compact.clone()
                } else {
                    pretty.clone()
                }
                .into_bytes();
                let at = documents.below(bytes.len() as u64 + 1) as usize;
                const INSERTS: &[u8] = b"\"\\{}[],:0-.eE+ tnu\x01";
                match documents.below(3) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 if at < bytes.len() => {
                        bytes[at] = INSERTS[documents.below(INSERTS.len() as u64) as usize];
                    }
                    _ => bytes.insert(at, INSERTS[documents.below(INSERTS.len() as u64) as usize]),
                }
                if let Ok(text) = String::from_utf8(bytes) {
                    refused += usize::from(agrees::<Value>(&text).is_err());
                }
            }
        }
        assert!(refused > 1000, "corruptions mostly refused ({refused})");
    }

    #[test]
    fn decodes_a_review_as_serde_json_does_skipping_unknown_fields() {
        let review = serde_json::json!({
            "apiVersion": "acr.policy/v1",
            "operation": "deploy",
            "subject": "connected-registry",
            "fromANewerHost": [{"deep": [1, 2.5, "x\"y", null, {"k": true}]}],
            "object": {"service.clusterIP": "192.100.100.1", "protected": {"tls.key": "<redacted>"}},
            "facts": {
                "certificates": [{
                    "role": "serving",
                    "keyMatches": true,
                    "subject": "CN=connected-registry",
                    "subjectAltNames": {"dns": ["registry.local"], "ip": ["192.100.100.1"]},
                    "commonName": null,
                    "daysLeft": -3,
                    "publicKey": {"algorithm": "EC", "bits": 256, "curve": "P-256"},
                    "pathLen": 0,
                    "unknownFact": {"ignored": ["\u{e9}"]}
                }],
                "cluster": {"nodes": [{"name": "n1", "labels": {"a\\b": "c"}}], "count": 1e3}
            },
            "settings": {"minDaysLeft": 30}
        });
        for text in [
            serde_json::to_string(&review).expect("serialises"),
            serde_json::to_string_pretty(&review).expect("serialises"),
        ] {
            let decoded = agrees::<Review>(&text).expect("decodes");
            let cluster = decoded.facts.cluster.as_ref().expect("cluster facts");
            assert_eq!(cluster.to_value(), review["facts"]["cluster"]);
        }
    }

    /// A review whose `facts.cluster` is `cluster`, as text.
    fn review_with_cluster(cluster: &str) -> String {
        format!(
            r#"{{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"pull-secret","facts":{{"cluster":{cluster}}},"settings":null}}"#
        )
    }

    #[test]
    fn keeps_lazy_json_as_its_exact_text_up_to_where_its_brackets_balance() {
        for cluster in [
            "{\"nodes\": [1, {\"a\": \"b\\n ]}\\\"\"},\n 2.50]}",
            "[]",
            "\"text with } and ] inside\"",
            "-1.5e3",
            "true",
            "{\"not\": JSON but balanced}",
        ] {
            let review: Review = from_str(&review_with_cluster(cluster))
                .unwrap_or_else(|error| panic!("{cluster}: {error}"));
            let lazy = review.facts.cluster.expect("cluster facts");
            assert_eq!(lazy.text(), cluster);
            assert_eq!(
                lazy.parse::<Value>().ok(),
                serde_json::from_str::<Value>(cluster).ok()
            );
        }
        for unbalanced in ["{\"nodes\": [1, 2}", "[\"open", "}", "]"] {
            let text = review_with_cluster(unbalanced);
            assert!(from_str::<Review>(&text).is_err(), "{unbalanced} accepted");
        }
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit_also_where_it_skips() {
        let nested = |depth: u32| "[".repeat(depth as usize) + &"]".repeat(depth as usize);
        let deepest = nested(NESTING_LIMIT);
        let too_deep = nested(NESTING_LIMIT + 1);
        assert!(agrees::<Value>(&deepest).is_ok());
        assert!(agrees::<Value>(&too_deep).is_err());
        assert!(from_str::<serde::de::IgnoredAny>(&deepest).is_ok());
        let error = from_str::<serde::de::IgnoredAny>(&too_deep).expect_err("too deep");
        assert_eq!(error.message, "recursion limit exceeded");
        let unknown_field = |value: &str| {
            format!(
                r#"{{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"pull-secret","fromANewerHost":{value}}}"#
            )
        };
        assert!(from_str::<Review>(&unknown_field(&nested(NESTING_LIMIT - 1))).is_ok());
        assert!(from_str::<Review>(&unknown_field(&nested(NESTING_LIMIT))).is_err());
        let deep_cluster: Review = from_str(&review_with_cluster(&nested(NESTING_LIMIT + 10)))
            .expect("lazy JSON is checked when parsed");
        let cluster = deep_cluster.facts.cluster.expect("cluster facts");
        let error = cluster.parse::<Value>().expect_err("too deep");
        assert!(
            error.to_string().starts_with("recursion limit exceeded"),
            "{error}"
        );
    }

    #[test]
    fn refuses_values_of_the_wrong_type_with_serde_json_messages() {
        let review = |member: &str| {
            format!(
                r#"{{"apiVersion":"acr.policy/v1","operation":"deploy","subject":"custom-domain",{member}}}"#
            )
        };
        let certificate = |member: &str| {
            review(&format!(
                r#""facts":{{"certificates":[{{"role":"ca",{member}}}]}}"#
            ))
        };
        for text in [
            r#"{"apiVersion":1}"#.to_owned(),
            r#"{"apiVersion":null}"#.to_owned(),
            r#"{"apiVersion":"acr.policy/v1","operation":true}"#.to_owned(),
            review(r#""facts":[1]"#),
            review(r#""facts":{"certificates":{}}"#),
            certificate(r#""isCa":"yes""#),
            certificate(r#""daysLeft":1.5"#),
            certificate(r#""daysLeft":"7""#),
            certificate(r#""pathLen":-1"#),
            certificate(r#""pathLen":4294967296"#),
            certificate(r#""publicKey":{"bits":[]}"#),
            certificate(r#""keyUsage":"digitalSignature""#),
            certificate(r#""subjectAltNames":{"dns":[1]}"#),
            certificate(r#""subjectAltNames":["x"]"#),
            certificate(r#""expired":null"#),
            certificate(r#""serial":-1.5e3"#),
            certificate(r#""serial":-7"#),
            certificate(r#""daysLeft":"esc\"aped""#),
            certificate(r#""daysLeft":{}"#),
        ] {
            let ours = from_str::<Review>(&text).expect_err("wrong type");
            let reference = serde_json::from_str::<Review>(&text).expect_err("wrong type");
            // Positions differ by design: the decoder gives the column after what it read.
            let message =
                |error: String| error[..error.rfind(" at line").expect("placed")].to_owned();
            assert_eq!(
                message(ours.to_string()),
                message(reference.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn places_errors_where_decoding_stopped() {
        let error = from_str::<Value>("{\"a\": [1,\n   tru]}").expect_err("refused");
        assert_eq!(error.to_string(), "expected value at line 2 column 4");
        let error = from_str::<Review>(r#"{"operation":"create"}"#).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "missing field `apiVersion` at line 1 column 22"
        );
        let error = from_str::<Review>(r#"{"apiVersion":"acr.policy/v1","operation":"delete"}"#)
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("unknown variant `delete`, expected one of"),
            "{error}"
        );
        let error = from_str::<Value>("[1] [").expect_err("refused");
        assert_eq!(error.to_string(), "trailing characters at line 1 column 5");
    }

    #[test]
    fn decodes_enums_written_as_strings_and_as_one_entry_objects() {
        #[derive(Debug, PartialEq, Deserialize)]
        enum Shape {
            Point,
            Circle(f64),
            Pair(u8, u8),
            Box { width: u32 },
        }
        for (text, expected) in [
            (r#""Point""#, Shape::Point),
            (r#""Poi\u006et""#, Shape::Point),
            (r#"{"Point": null}"#, Shape::Point),
            (r#"{"Circle": 2.5}"#, Shape::Circle(2.5)),
            (r#"{"Pair": [1, 2]}"#, Shape::Pair(1, 2)),
            (r#"{"Box": {"width": 3}}"#, Shape::Box { width: 3 }),
        ] {
            assert_eq!(agrees::<Shape>(text), Ok(expected));
        }
        for text in [r#""Square""#, r#"{"Circle": 1, "Point": null}"#, "3"] {
            assert!(agrees::<Shape>(text).is_err(), "{text} accepted");
        }
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control_byte() {
        let fillers = [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff];
        for stop in [b'"', b'\\', 0x00, 0x0a, 0x1f] {
            for filler in fillers {
                for length in 0..24 {
                    for at in 0..=length {
                        let mut bytes = vec![filler; length];
                        if at < length {
                            bytes[at] = stop;
                            // A later stop byte must not hide the first.
                            if at + 3 < length {
                                bytes[at + 3] = b'"';
                            }
                        }
                        for from in 0..=at.min(3) {
                            assert_eq!(
                                string_stop(&bytes, from),
                                at,
                                "stop {stop:#x} filler {filler:#x} at {at} of {length} from {from}"
                            );
                        }
                    }
                }
            }
        }
    }
}
