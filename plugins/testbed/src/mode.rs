//! The testbed's `with:` mapping and the reports it renders; plain Rust, so
//! it is unit-tested natively.

use andon_pdk::types::{Event, EventKind, PluginError, ReadError};
use serde::Deserialize;
use serde_json::json;

/// How to misbehave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Noop,
    Echo,
    Loop,
    Memory,
    Trap,
    Unreachable,
    BigOutput,
    Escape,
    Read,
    Error,
    BadConfig,
    LogFlood,
    Kv,
    AllActions,
}

/// The `with:` mapping. Unknown fields are accepted, so every mode can be
/// given anything.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub mode: Mode,
    /// `big-output`: the comment's size; 64 MiB when absent.
    pub bytes: Option<u64>,
    /// `read`: the file to read.
    pub path: Option<String>,
}

impl Config {
    pub fn output_bytes(&self) -> Result<usize, PluginError> {
        let bytes = self.bytes.unwrap_or(64 << 20);
        usize::try_from(bytes)
            .map_err(|_| PluginError::InvalidConfig(format!("`with.bytes` is too large: {bytes}")))
    }

    pub fn required_path(&self) -> Result<&str, PluginError> {
        self.path
            .as_deref()
            .ok_or_else(|| PluginError::InvalidConfig("mode `read` needs `with.path`".into()))
    }
}

/// The `echo` comment: the event fields the plugin got, as JSON.
pub fn echo_json(event: &Event, changed_files: usize) -> String {
    json!({
        "kind": kind_name(event.kind),
        "repository": event.repository,
        "number": event.number,
        "head": event.head,
        "base": event.base,
        "labels": event.labels,
        "changed_files": changed_files,
    })
    .to_string()
}

/// The `read` comment: the file read whole (with its text) and streamed.
pub fn read_json(
    path: &str,
    whole: &Result<Vec<u8>, ReadError>,
    streamed: &Result<(u64, u64, u64), ReadError>,
) -> String {
    let whole = match whole {
        Ok(bytes) => json!({ "bytes": bytes.len(), "text": String::from_utf8_lossy(bytes) }),
        Err(e) => json!({ "error": describe_read_error(e) }),
    };
    let streamed = match streamed {
        Ok((size, total, chunks)) => json!({ "size": size, "read": total, "chunks": chunks }),
        Err(e) => json!({ "error": describe_read_error(e) }),
    };
    json!({ "path": path, "read_file": whole, "blob": streamed }).to_string()
}

/// A read error in WIT spelling: `invalid-path(..)`, `not-found`, …
pub fn describe_read_error(e: &ReadError) -> String {
    match e {
        ReadError::NotFound => "not-found".into(),
        ReadError::InvalidPath(m) => format!("invalid-path({m})"),
        ReadError::NoRevision => "no-revision".into(),
        ReadError::TooLarge(n) => format!("too-large({n})"),
        ReadError::Other(m) => format!("other({m})"),
    }
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::PullRequest => "pull-request",
        EventKind::Push => "push",
        EventKind::Manual => "manual",
        EventKind::Comment => "comment",
        EventKind::Schedule => "schedule",
    }
}

#[cfg(test)]
mod tests {
    use andon_pdk::parse_config;

    use super::*;

    #[test]
    fn modes_parse_in_kebab_case() {
        let cfg: Config = parse_config(r#"{"mode": "big-output", "bytes": 3}"#).expect("valid");
        assert_eq!(
            (cfg.mode, cfg.output_bytes().ok()),
            (Mode::BigOutput, Some(3))
        );
        let cfg: Config = parse_config("{}").expect("valid");
        assert_eq!(cfg.mode, Mode::Noop);
        assert_eq!(cfg.output_bytes().ok(), Some(64 << 20));
        assert!(parse_config::<Config>(r#"{"mode": "explode"}"#).is_err());
    }

    #[test]
    fn echo_lists_the_event() {
        let event = Event {
            kind: EventKind::PullRequest,
            action: Some("opened".into()),
            repository: "o/r".into(),
            number: Some(7),
            author: None,
            author_association: None,
            base: Some("b".repeat(40)),
            head: "h".repeat(40),
            ref_name: None,
            title: None,
            body: None,
            labels: vec!["bug".into()],
            command: None,
            args: Vec::new(),
        };
        let v: serde_json::Value = serde_json::from_str(&echo_json(&event, 3)).expect("json");
        assert_eq!(v["kind"], "pull-request");
        assert_eq!(v["number"], 7);
        assert_eq!(v["labels"][0], "bug");
        assert_eq!(v["changed_files"], 3);
    }

    #[test]
    fn read_report() {
        let out = read_json("a.txt", &Ok(b"hi".to_vec()), &Err(ReadError::NotFound));
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let expected = json!({
            "path": "a.txt",
            "read_file": { "bytes": 2, "text": "hi" },
            "blob": { "error": "not-found" },
        });
        assert_eq!(v, expected);
    }
}
