//! JSON input read strictly: a key given twice in any object, at any depth, is refused with
//! where it is, instead of serde_json's silent last-one-wins.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Parses `bytes` as `T` after checking that no object in it gives a key twice.
pub fn from_slice<T: de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    check_unique_keys(bytes)?;
    serde_json::from_slice(bytes)
}

/// Parses `text` as `T`, as [`from_slice`] does.
pub fn from_str<T: de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    from_slice(text.as_bytes())
}

/// Refuses JSON in which an object gives a key twice; the error names the key, the object (as
/// a JSON pointer) and the line.
pub fn check_unique_keys(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    UniqueKeys { pointer: "" }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Walks one JSON value, `pointer` being where it sits in the document.
struct UniqueKeys<'p> {
    pointer: &'p str,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let pointer = format!("{}/{index}", self.pointer);
            if items
                .next_element_seed(UniqueKeys { pointer: &pointer })?
                .is_none()
            {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = members.next_key::<String>()? {
            let pointer = format!("{}/{}", self.pointer, escape_token(&key));
            if !seen.insert(key) {
                let within = if self.pointer.is_empty() {
                    "the top-level object".to_owned()
                } else {
                    format!("the object at {:?}", self.pointer)
                };
                return Err(de::Error::custom(format_args!(
                    "the key {:?} is given twice in {within}",
                    &pointer[self.pointer.len() + 1..]
                )));
            }
            members.next_value_seed(UniqueKeys { pointer: &pointer })?;
        }
        Ok(())
    }
}

/// A key as a JSON pointer token (RFC 6901): `~` and `/` escaped.
fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        for (text, key, within, line) in [
            (r#"{"a": 1, "a": 2}"#, "a", "the top-level object", 1),
            (
                "{\"request\": {\"object\": [{}, {\"x/y\": 1,\n \"x/y\": 1}]}}",
                "x~1y",
                "the object at \"/request/object/1\"",
                2,
            ),
        ] {
            let error = from_slice::<serde_json::Value>(text.as_bytes()).expect_err(text);
            assert_eq!(
                error.to_string(),
                format!(
                    "the key {key:?} is given twice in {within} at line {line} column {}",
                    error.column()
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn equal_keys_in_different_objects_and_ordinary_documents_pass() {
        let text = r#"{"a": {"k": 1}, "b": {"k": [1, "k", {"k": null}]}, "k": true, "n": -1.5}"#;
        let value: serde_json::Value = from_str(text).expect("valid");
        assert_eq!(value["b"]["k"][2], serde_json::json!({"k": null}));
    }

    #[test]
    fn syntax_errors_and_trailing_text_are_still_refused() {
        for text in ["{\"a\": }", "{} {}", ""] {
            assert!(from_str::<serde_json::Value>(text).is_err(), "{text:?}");
        }
    }
}
