//! JSON a review carries as text until a policy asks for it: parsing only what a policy reads
//! keeps evaluation fast when the host sends large facts, such as a cluster's nodes.

use core::fmt;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// The name under which a [`LazyJson`] asks a deserializer for a value's text. The decoder of
/// `acr_evaluate` answers with the text, having found only where the value ends; any other
/// deserializer (serde_json's, natively) is asked for a checked `RawValue` instead.
pub(crate) const LAZY_JSON_TOKEN: &str = "$acr_wasm_guest::LazyJson";

/// A JSON value kept as text until a policy parses it.
///
/// In a module the text is checked when it is parsed, not when the review is decoded: decoding
/// only finds where it ends, so a policy that never reads it never pays for it. Natively, and
/// when built from a value, it is checked at once.
#[derive(Debug, Clone)]
pub struct LazyJson(Text);

#[derive(Debug, Clone)]
enum Text {
    Checked(Box<RawValue>),
    Unchecked(Box<str>),
}

impl LazyJson {
    /// The JSON text, as the host sent it.
    pub fn text(&self) -> &str {
        match &self.0 {
            Text::Checked(raw) => raw.get(),
            Text::Unchecked(text) => text,
        }
    }

    /// Parses the JSON into `T`, for example a policy's own struct of the fields it reads.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.text())
    }

    /// Parses the JSON into a [`Value`]. Text that is not JSON (which a correct host never
    /// sends) ends the evaluation as an error, as [`fail`](crate::fail) does.
    pub fn to_value(&self) -> Value {
        self.parse().unwrap_or_else(|error| {
            crate::fail(&format!("facts sent as JSON are not JSON: {error}"))
        })
    }
}

impl From<&Value> for LazyJson {
    fn from(value: &Value) -> Self {
        Self(Text::Checked(
            serde_json::value::to_raw_value(value).expect("a JSON value always serialises"),
        ))
    }
}

impl From<Value> for LazyJson {
    fn from(value: Value) -> Self {
        Self::from(&value)
    }
}

/// Equal when the values are, whatever the spacing or key order of their texts.
impl PartialEq for LazyJson {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
            || matches!(
                (self.parse::<Value>(), other.parse::<Value>()),
                (Ok(mine), Ok(theirs)) if mine == theirs
            )
    }
}

/// Written as the JSON it holds; text not yet checked is checked first.
impl Serialize for LazyJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Text::Checked(raw) => raw.serialize(serializer),
            Text::Unchecked(text) => RawValue::from_string(text.to_string())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for LazyJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(LAZY_JSON_TOKEN, LazyJsonVisitor)
    }
}

struct LazyJsonVisitor;

impl<'de> Visitor<'de> for LazyJsonVisitor {
    type Value = LazyJson;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    /// From the review decoder: the value's text, not yet checked.
    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<LazyJson, E> {
        Ok(LazyJson(Text::Unchecked(text.into())))
    }

    /// From any other deserializer: the value as serde_json's checked `RawValue`.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, value: D) -> Result<LazyJson, D::Error> {
        Box::<RawValue>::deserialize(value).map(|raw| LazyJson(Text::Checked(raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Holder {
        cluster: LazyJson,
    }

    #[test]
    fn keeps_the_text_and_parses_on_demand() {
        let holder: Holder =
            serde_json::from_str(r#"{"cluster": {"nodes": [{"name": "a"}], "ok": true}}"#)
                .expect("parses");
        assert_eq!(
            holder.cluster.text(),
            r#"{"nodes": [{"name": "a"}], "ok": true}"#
        );
        assert_eq!(
            holder.cluster.to_value(),
            json!({"nodes": [{"name": "a"}], "ok": true})
        );
        #[derive(Deserialize)]
        struct Ok {
            ok: bool,
        }
        assert!(holder.cluster.parse::<Ok>().expect("typed parse").ok);
    }

    #[test]
    fn malformed_json_is_refused_when_serde_json_decodes_the_review() {
        let error = serde_json::from_str::<Holder>(r#"{"cluster": {"nodes": [}}"#)
            .err()
            .expect("refused");
        assert!(error.is_syntax(), "{error}");
    }

    #[test]
    fn the_review_decoder_leaves_the_text_to_be_checked_when_parsed() {
        let holder: Holder =
            crate::review_json::from_str(r#"{"cluster": {"nodes": [1 2], "n": "}"}}"#)
                .expect("the text ends where its brackets do");
        assert_eq!(holder.cluster.text(), r#"{"nodes": [1 2], "n": "}"}"#);
        assert!(holder.cluster.parse::<Value>().is_err());
        let panic = std::panic::catch_unwind(|| holder.cluster.to_value()).expect_err("fails");
        let message = panic
            .downcast_ref::<String>()
            .expect("formatted panic message");
        assert!(
            message.starts_with("facts sent as JSON are not JSON: "),
            "{message}"
        );
        assert_eq!(crate::take_logged(), vec![message.clone()]);
        assert!(serde_json::to_string(&holder.cluster).is_err());

        let valid: Holder =
            crate::review_json::from_str(r#"{"cluster": [ {"a": "\"]"} ]}"#).expect("decodes");
        assert_eq!(valid.cluster.text(), r#"[ {"a": "\"]"} ]"#);
        assert_eq!(valid.cluster.to_value(), json!([{"a": "\"]"}]));
        assert_eq!(
            serde_json::to_string(&valid.cluster).expect("serialises"),
            r#"[ {"a": "\"]"} ]"#
        );
    }

    #[test]
    fn equality_ignores_spacing_and_key_order() {
        let spaced: Holder =
            serde_json::from_str(r#"{"cluster": { "b": 1, "a": [ 2 ] }}"#).expect("parses");
        assert_eq!(spaced.cluster, LazyJson::from(json!({"a": [2], "b": 1})));
        assert_ne!(spaced.cluster, LazyJson::from(json!({"a": [2], "b": 2})));
    }

    #[test]
    fn round_trips_through_serialisation() {
        let lazy = LazyJson::from(json!({"nodes": ["n1"]}));
        let text = serde_json::to_string(&json!({"cluster": lazy})).expect("serialises");
        assert_eq!(text, r#"{"cluster":{"nodes":["n1"]}}"#);
    }
}
