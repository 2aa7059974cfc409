//! Reading the settings a policy set gives a policy: typed, with defaults, typos refused.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads `settings` (a review's `settings`, or what `acr_validate_settings` receives) into `T`.
///
/// `null`, which the host sends when the policy set gives no settings, reads as
/// `T::default()`; anything but `null` or an object is refused. Give `T` `#[serde(default, deny_unknown_fields)]` so that absent keys take
/// their defaults and misspelt ones are refused rather than silently ignored:
///
/// ```
/// use serde::Deserialize;
/// use wasm_guest::parse_settings;
/// use wasm_guest::serde_json::json;
///
/// #[derive(Debug, Deserialize, PartialEq)]
/// #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
/// struct Settings {
///     min_days_left: u32,
/// }
///
/// impl Default for Settings {
///     fn default() -> Self {
///         Self { min_days_left: 30 }
///     }
/// }
///
/// assert_eq!(parse_settings::<Settings>(&json!(null)), Ok(Settings { min_days_left: 30 }));
/// assert_eq!(parse_settings::<Settings>(&json!({ "minDaysLeft": 7 })), Ok(Settings { min_days_left: 7 }));
/// assert!(parse_settings::<Settings>(&json!({ "minDays": 7 })).is_err());
/// ```
pub fn parse_settings<T: DeserializeOwned + Default>(settings: &Value) -> Result<T, String> {
    match settings {
        Value::Null => Ok(T::default()),
        Value::Object(_) => {
            T::deserialize(settings).map_err(|error| format!("invalid settings: {error}"))
        }
        other => Err(format!(
            "invalid settings: expected an object of settings, found `{other}`"
        )),
    }
}

/// The settings check of a policy that takes none: `null` and `{}` pass, anything else is
/// refused, so a policy set cannot believe it configured something.
pub fn no_settings(settings: &Value) -> Result<(), String> {
    match settings {
        Value::Null => Ok(()),
        Value::Object(map) if map.is_empty() => Ok(()),
        _ => Err("this policy takes no settings".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
    struct KeySettings {
        min_rsa_bits: u32,
        allowed_curves: Vec<String>,
    }

    impl Default for KeySettings {
        fn default() -> Self {
            Self {
                min_rsa_bits: 2048,
                allowed_curves: vec!["P-256".to_owned()],
            }
        }
    }

    #[test]
    fn null_and_absent_keys_take_the_defaults() {
        assert_eq!(
            parse_settings::<KeySettings>(&Value::Null),
            Ok(KeySettings::default())
        );
        assert_eq!(
            parse_settings::<KeySettings>(&json!({ "minRsaBits": 3072 })),
            Ok(KeySettings {
                min_rsa_bits: 3072,
                allowed_curves: vec!["P-256".to_owned()],
            })
        );
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_explained() {
        assert_eq!(
            parse_settings::<KeySettings>(&json!({ "minRsaBits": -1 })),
            Err("invalid settings: invalid value: integer `-1`, expected u32".to_owned())
        );
        assert_eq!(
            parse_settings::<KeySettings>(&json!({ "minRsaBit": 3072 })),
            Err(
                "invalid settings: unknown field `minRsaBit`, expected `minRsaBits` or \
                 `allowedCurves`"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_settings::<KeySettings>(&json!([])),
            Err("invalid settings: expected an object of settings, found `[]`".to_owned())
        );
    }

    #[test]
    fn no_settings_accepts_only_nothing() {
        assert_eq!(no_settings(&Value::Null), Ok(()));
        assert_eq!(no_settings(&json!({})), Ok(()));
        assert_eq!(
            no_settings(&json!({ "strict": true })),
            Err("this policy takes no settings".to_owned())
        );
        assert_eq!(
            no_settings(&json!(false)),
            Err("this policy takes no settings".to_owned())
        );
    }
}
