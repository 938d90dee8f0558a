//! The suite file as a tree of YAML nodes that remember their line, parsed
//! with bounded aliases, depth and size: a suite comes from a pull request,
//! and a hostile one must not exhaust the plugin's memory.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

/// A YAML value with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line, 0 when unknown.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// A scalar as text: strings as they are, numbers and booleans as
    /// written in YAML 1.2. `None` for null and collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// A parse failure with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses one YAML document with bounded aliases, depth, nodes and size.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        budget: serde_saphyr::budget! {
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 32,
            max_nodes: 100_000,
            max_documents: 1,
            max_total_scalar_bytes: 4 << 20,
        },
        // Messages are rendered without source snippets (the caller names
        // the file and line), which also keeps the snippet renderer out of
        // the component.
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) {
        Ok(spanned) => Ok(from_spanned(spanned)),
        Err(error) => Err(ParseError {
            line: error
                .location()
                .map_or(0, |l| usize::try_from(l.line()).unwrap_or(usize::MAX)),
            message: first_line(&UserMessageFormatter.format_message(&error)),
        }),
    }
}

/// The library's messages carry a source snippet after the first line; the
/// caller prints its own location, so keep only the message.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message);
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest.to_string(),
        _ => line.to_string(),
    }
}

fn from_spanned(spanned: Spanned<Node>) -> Node {
    Node {
        line: usize::try_from(spanned.referenced.line()).unwrap_or(0),
        ..spanned.value
    }
}

fn bare(value: Value) -> Node {
    Node { value, line: 0 }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(bare(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(bare(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(bare(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(bare(Value::Int(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(bare(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(bare(Value::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(bare(Value::Str(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(bare(Value::Str(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(from_spanned(item));
        }
        Ok(bare(Value::Seq(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((from_spanned(key), from_spanned(value)));
        }
        Ok(bare(Value::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_their_lines() {
        let node = parse("a: 1\nb:\n  - x\n  - y\n").expect("parses");
        let Value::Map(entries) = node.value else {
            panic!("expected a map")
        };
        assert_eq!(entries[1].0.line, 2);
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("expected a list")
        };
        assert_eq!(items[1].line, 4);
    }

    #[test]
    fn syntax_errors_have_a_line_and_a_short_message() {
        let error = parse("a: [1, 2\nb: 3").expect_err("invalid");
        assert!(error.line >= 1);
        assert!(!error.message.contains('\n'), "{}", error.message);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            text.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        assert!(parse(&text).is_err());
    }

    #[test]
    fn yaml_1_2_scalars() {
        let node = parse("a: yes\nb: 007\nc: 1.5\n").expect("parses");
        let Value::Map(entries) = node.value else {
            panic!("expected a map")
        };
        assert_eq!(entries[0].1.value, Value::Str("yes".into()));
        assert_eq!(entries[1].1.value, Value::Str("007".into()));
        assert_eq!(entries[2].1.value, Value::Float(1.5));
    }
}
