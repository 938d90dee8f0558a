//! Parsing a step's `with:` mapping into a plugin's own config type.

use serde::de::DeserializeOwned;

use crate::types::{Invocation, PluginError};

/// Parses the step's `with:` mapping (the invocation's JSON `config`).
///
/// An empty object, `null` or an empty string gives `T::default()`. A
/// mistake becomes [`PluginError::InvalidConfig`] with a message that names
/// the offending field.
pub fn config<T: DeserializeOwned + Default>(inv: &Invocation) -> Result<T, PluginError> {
    parse_config(&inv.config)
}

/// [`config`] over the raw JSON text, for tests and for plugins that keep the
/// invocation apart from their logic.
pub fn parse_config<T: DeserializeOwned + Default>(json: &str) -> Result<T, PluginError> {
    // The host sends `{}` for a step without `with:`: skip the JSON parser.
    if matches!(json.trim(), "" | "{}" | "null") {
        return Ok(T::default());
    }
    let value: serde_json::Value = if json.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(json)
            .map_err(|e| PluginError::InvalidConfig(format!("`with:` is not valid JSON: {e}")))?
    };
    match &value {
        serde_json::Value::Null => return Ok(T::default()),
        serde_json::Value::Object(map) if map.is_empty() => return Ok(T::default()),
        serde_json::Value::Object(_) => {}
        other => {
            return Err(PluginError::InvalidConfig(format!(
                "`with:` must be a mapping, not {}",
                kind_of(other)
            )));
        }
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        PluginError::InvalidConfig(if path == "." {
            format!("invalid `with:`: {inner}")
        } else {
            format!("invalid `with.{path}`: {inner}")
        })
    })
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// [`parse_config`] into a raw serde type, then its checks (`TryFrom`,
/// whose error message becomes [`PluginError::InvalidConfig`]).
pub fn checked_config<R, T>(json: &str) -> Result<T, PluginError>
where
    R: DeserializeOwned + Default,
    T: TryFrom<R, Error = String>,
{
    T::try_from(parse_config::<R>(json)?).map_err(PluginError::InvalidConfig)
}

/// `value` trimmed, or an error naming `key` when nothing is left: for
/// config values such as a label's name.
pub fn non_empty(value: &str, key: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("`{key}` must not be empty"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        limit: u32,
        #[serde(default)]
        names: Vec<String>,
    }

    fn message(r: Result<Cfg, PluginError>) -> String {
        match r {
            Err(PluginError::InvalidConfig(m)) => m,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    #[test]
    fn empty_gives_default() {
        for json in ["{}", "", "  ", "null", " { } "] {
            assert_eq!(
                parse_config::<Cfg>(json).ok(),
                Some(Cfg::default()),
                "{json:?}"
            );
        }
    }

    #[test]
    fn parses_fields() {
        let cfg: Cfg = parse_config(r#"{"limit": 3, "names": ["a"]}"#).expect("valid config");
        assert_eq!(
            cfg,
            Cfg {
                limit: 3,
                names: vec!["a".into()]
            }
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let m = message(parse_config(r#"{"limit": 3, "names": ["a", 7]}"#));
        assert!(m.contains("`with.names[1]`"), "{m}");
        let m = message(parse_config(r#"{"limit": "many"}"#));
        assert!(m.contains("`with.limit`"), "{m}");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let m = message(parse_config(r#"{"limit": 1, "lmit": 2}"#));
        assert!(m.contains("lmit"), "{m}");
        let m = message(parse_config(r#"{"names": []}"#));
        assert!(m.contains("limit"), "{m}");
    }

    #[test]
    fn not_a_mapping() {
        assert!(message(parse_config("[1]")).contains("must be a mapping"));
        assert!(message(parse_config("{")).contains("not valid JSON"));
    }
}
