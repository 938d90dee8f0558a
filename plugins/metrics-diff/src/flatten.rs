//! Reading a metrics or params file (JSON, YAML, TOML) into flat
//! `key → scalar` pairs: nested keys joined with `.`, list items by index
//! (`layers.0.units`), as `dvc metrics diff` and `dvc params diff` name them.

use std::collections::HashSet;

use andon_yaml::{Node, Value as Yaml};
use serde::Serialize;
use serde_json::Value as Json;

/// A leaf value of a metrics or params file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// The file formats this plugin reads, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
}

impl Format {
    /// The format of `path` by its extension (any case), if supported.
    pub fn of(path: &str) -> Option<Format> {
        let (_, ext) = path.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
        }
    }
}

/// The flattened pairs in file order (JSON and TOML mappings come sorted by
/// key), each key once.
pub type Flat = Vec<(String, Scalar)>;

/// Parses `text` as `format` and flattens it. The error is a phrase such as
/// `invalid JSON at line 3, column 5: expected `,` or `}``.
pub fn parse(format: Format, text: &str) -> Result<Flat, String> {
    // serde_json refuses a byte order mark; editors on Windows write one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Flattener::default();
    match format {
        Format::Json => {
            let value: Json = serde_json::from_str(text).map_err(|e| {
                at_line(format, e.line(), e.column(), &json_message(&e.to_string()))
            })?;
            // An empty document (`null`, an empty YAML file) has no keys.
            if !value.is_null() {
                out.json(String::new(), &value);
            }
        }
        Format::Yaml => {
            let node = andon_yaml::parse(text)
                .map_err(|e| at_line(format, e.line, e.column, &e.message))?;
            if node.value != Yaml::Null {
                out.yaml(String::new(), &node);
            }
        }
        Format::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map_or((0, 0), |span| line_and_column(text, span.start));
                at_line(format, line, column, e.message().trim())
            })?;
            out.toml(String::new(), &toml::Value::Table(table));
        }
    }
    Ok(out.pairs)
}

fn at_line(format: Format, line: usize, column: usize, message: &str) -> String {
    let name = format.name();
    match (line, column) {
        (0, _) => format!("invalid {name}: {message}"),
        (line, 0) => format!("invalid {name} at line {line}: {message}"),
        (line, column) => format!("invalid {name} at line {line}, column {column}: {message}"),
    }
}

/// serde_json ends its messages with ` at line L column C`; the position is
/// said first instead.
fn json_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    (line, column)
}

#[derive(Default)]
struct Flattener {
    pairs: Flat,
    seen: HashSet<String>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Flattener {
    /// Keeps the first value of a key: `{"a.b": 1, "a": {"b": 2}}` has one.
    fn push(&mut self, key: String, value: Scalar) {
        if self.seen.insert(key.clone()) {
            self.pairs.push((key, value));
        }
    }

    fn json(&mut self, key: String, value: &Json) {
        match value {
            Json::Null => self.push(key, Scalar::Null),
            Json::Bool(b) => self.push(key, Scalar::Bool(*b)),
            Json::Number(n) => {
                let scalar = match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => Scalar::Int(i),
                    (None, Some(f)) => Scalar::Float(f),
                    (None, None) => Scalar::Str(n.to_string()),
                };
                self.push(key, scalar);
            }
            Json::String(s) => self.push(key, Scalar::Str(s.clone())),
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.json(join(&key, &i.to_string()), item);
                }
            }
            Json::Object(map) => {
                for (k, v) in map {
                    self.json(join(&key, k), v);
                }
            }
        }
    }

    fn yaml(&mut self, key: String, node: &Node) {
        match &node.value {
            Yaml::Null => self.push(key, Scalar::Null),
            Yaml::Bool(b) => self.push(key, Scalar::Bool(*b)),
            Yaml::Int(i) => self.push(key, Scalar::Int(*i)),
            Yaml::Float(f) => self.push(key, Scalar::Float(*f)),
            Yaml::Str(s) => self.push(key, Scalar::Str(s.clone())),
            Yaml::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.yaml(join(&key, &i.to_string()), item);
                }
            }
            Yaml::Map(entries) => {
                for (k, v) in entries {
                    self.yaml(join(&key, &k.scalar_text()), v);
                }
            }
        }
    }

    fn toml(&mut self, key: String, value: &toml::Value) {
        match value {
            toml::Value::String(s) => self.push(key, Scalar::Str(s.clone())),
            toml::Value::Integer(i) => self.push(key, Scalar::Int(*i)),
            toml::Value::Float(f) => self.push(key, Scalar::Float(*f)),
            toml::Value::Boolean(b) => self.push(key, Scalar::Bool(*b)),
            toml::Value::Datetime(d) => self.push(key, Scalar::Str(d.to_string())),
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.toml(join(&key, &i.to_string()), item);
                }
            }
            toml::Value::Table(table) => {
                for (k, v) in table {
                    self.toml(join(&key, k), v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(format: Format, text: &str) -> Vec<(String, Scalar)> {
        parse(format, text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pairs(list: &[(&str, Scalar)]) -> Flat {
        list.iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of("a/metrics.JSON"), Some(Format::Json));
        assert_eq!(Format::of("params.yml"), Some(Format::Yaml));
        assert_eq!(Format::of("x.yaml"), Some(Format::Yaml));
        assert_eq!(Format::of("pyproject.toml"), Some(Format::Toml));
        assert_eq!(Format::of("data.csv"), None);
        assert_eq!(Format::of("Makefile"), None);
    }

    #[test]
    fn nested_keys_and_lists_flatten_the_same_in_every_format() {
        let expected = pairs(&[
            ("lr", Scalar::Float(0.01)),
            ("model.layers.0.units", Scalar::Int(64)),
            ("model.layers.1.units", Scalar::Int(32)),
            ("model.name", Scalar::Str("cnn".into())),
            ("shuffle", Scalar::Bool(true)),
        ]);
        let json = r#"{"lr": 0.01, "model": {"layers": [{"units": 64}, {"units": 32}], "name": "cnn"}, "shuffle": true}"#;
        assert_eq!(flat(Format::Json, json), expected);
        let yaml = "lr: 0.01\nmodel:\n  layers:\n    - units: 64\n    - units: 32\n  name: cnn\nshuffle: true\n";
        assert_eq!(flat(Format::Yaml, yaml), expected);
        let toml = "lr = 0.01\nshuffle = true\n[model]\nname = \"cnn\"\n[[model.layers]]\nunits = 64\n[[model.layers]]\nunits = 32\n";
        assert_eq!(flat(Format::Toml, toml), expected);
    }

    #[test]
    fn yaml_keeps_file_order_and_odd_scalars() {
        let got = flat(Format::Yaml, "z: ~\ny: 1e3\n1: x\nt: 2024-01-01\n");
        assert_eq!(
            got,
            pairs(&[
                ("z", Scalar::Null),
                ("y", Scalar::Float(1000.0)),
                ("1", Scalar::Str("x".into())),
                ("t", Scalar::Str("2024-01-01".into())),
            ])
        );
    }

    #[test]
    fn a_scalar_document_has_an_empty_key_and_duplicates_keep_the_first() {
        assert_eq!(
            flat(Format::Json, "0.5"),
            pairs(&[("", Scalar::Float(0.5))])
        );
        assert_eq!(flat(Format::Yaml, "# nothing yet\n"), Flat::new());
        assert_eq!(flat(Format::Json, "\u{feff}null"), Flat::new());
        assert_eq!(
            flat(Format::Json, r#"{"a": {"b": 2}, "a.b": 1}"#),
            pairs(&[("a.b", Scalar::Int(2))])
        );
        assert_eq!(
            flat(Format::Toml, "when = 1979-05-27T07:32:00Z"),
            pairs(&[("when", Scalar::Str("1979-05-27T07:32:00Z".into()))])
        );
        assert_eq!(
            flat(Format::Json, "18446744073709551615"),
            pairs(&[("", Scalar::Float(18_446_744_073_709_551_615.0))])
        );
    }

    #[test]
    fn parse_errors_name_the_format_and_line() {
        let err = |format, text| parse(format, text).err().unwrap_or_default();
        let json = err(Format::Json, "{\n  \"acc\": 0.9,\n  \"loss\" 0.1\n}");
        assert!(
            json.starts_with("invalid JSON at line 3, column 10: expected `:`"),
            "{json}"
        );
        let yaml = err(Format::Yaml, "a: 1\nb: [1, 2\nc: 3\n");
        assert!(yaml.starts_with("invalid YAML at line "), "{yaml}");
        let toml = err(Format::Toml, "a = 1\nb = = 2\n");
        assert!(
            toml.starts_with("invalid TOML at line 2, column "),
            "{toml}"
        );
        let dup = err(Format::Toml, "a = 1\na = 2\n");
        assert!(dup.contains("line 2") && dup.contains("duplicate"), "{dup}");
    }
}
