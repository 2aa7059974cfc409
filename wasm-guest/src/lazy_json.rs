//! JSON a review carries as text until a policy asks for it: parsing only what a policy reads
//! keeps evaluation fast when the host sends large facts, such as a cluster's nodes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON value kept as text until a policy parses it: checked to be well-formed when the
/// review is decoded (serde_json's `RawValue`, which only scans it), parsed only when asked, so
/// a policy that never reads it never pays for building it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LazyJson(Box<RawValue>);

impl LazyJson {
    /// The JSON text, as the host sent it.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Parses the JSON into `T`, for example a policy's own struct of the fields it reads.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.text())
    }

    /// Parses the JSON into a [`Value`]. The text was checked when the review was decoded, so
    /// this fails only past serde_json's nesting limit, which ends the evaluation as an error,
    /// as [`fail`](crate::fail) does.
    pub fn to_value(&self) -> Value {
        self.parse().unwrap_or_else(|error| {
            crate::fail(&format!("facts sent as JSON cannot be parsed: {error}"))
        })
    }
}

impl From<&Value> for LazyJson {
    fn from(value: &Value) -> Self {
        Self(serde_json::value::to_raw_value(value).expect("a JSON value always serialises"))
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
    fn malformed_json_is_refused_when_the_review_is_decoded() {
        let error = serde_json::from_str::<Holder>(r#"{"cluster": {"nodes": [}}"#)
            .err()
            .expect("refused");
        assert!(error.is_syntax(), "{error}");
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
