//! Effects as values: what a plugin asks for, before and after policy.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    Skipped,
    ActionRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    Notice,
    Warning,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub level: AnnotationLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub conclusion: Conclusion,
    pub title: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub media_type: String,
    /// Kept out of JSON output: artifacts can be large; the store keeps them.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Hex sha256 of `data`.
    pub sha256: String,
    pub size: u64,
}

pub use crate::registry::Bump;

/// A new model version a step asks for: a GTO tag `NAME@vX.Y.Z` on the
/// run's head commit. The host picks the version when `version` is `None`,
/// from the registry as it is when the tag is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterVersion {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub bump: Bump,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// A JSON object, as the plugin gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// An effect a plugin asks for. The closed set of things andon can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    /// The step's sticky comment on the event's pull request, or on pull
    /// request `number`.
    Comment {
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<u64>,
    },
    AddLabel {
        label: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<u64>,
    },
    RemoveLabel {
        label: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<u64>,
    },
    CheckRun(CheckRun),
    Artifact(Artifact),
    KvSet {
        key: String,
        /// UTF-8 values are shown as text, other bytes as hex.
        value: KvValue,
    },
    Fail {
        reason: String,
    },
    RegisterVersion(RegisterVersion),
    AssignStage {
        name: String,
        version: String,
        stage: String,
    },
}

/// A kv value: bytes, rendered readably in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvValue(pub Vec<u8>);

impl Serialize for KvValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.serialize_str(&format!("hex:{}", hex_encode(&self.0))),
        }
    }
}

impl<'de> Deserialize<'de> for KvValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.strip_prefix("hex:") {
            Some(hex) => hex_decode(hex)
                .map(KvValue)
                .ok_or_else(|| serde::de::Error::custom("invalid hex in kv value")),
            None => Ok(KvValue(text.into_bytes())),
        }
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Action {
    /// The `kind` name used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Comment { .. } => "comment",
            Action::AddLabel { .. } => "add-label",
            Action::RemoveLabel { .. } => "remove-label",
            Action::CheckRun(_) => "check-run",
            Action::Artifact(_) => "artifact",
            Action::KvSet { .. } => "kv-set",
            Action::Fail { .. } => "fail",
            Action::RegisterVersion(_) => "register-version",
            Action::AssignStage { .. } => "assign-stage",
        }
    }

    /// Whether this action makes its step fail: `fail`, or a check run that
    /// concluded `failure`.
    pub fn is_failure(&self) -> bool {
        match self {
            Action::Fail { .. } => true,
            Action::CheckRun(run) => run.conclusion == Conclusion::Failure,
            _ => false,
        }
    }

    /// Approximate size in bytes, for the output limit.
    pub fn size_hint(&self) -> usize {
        match self {
            Action::Comment { body, .. } => body.len(),
            Action::AddLabel { label, .. } | Action::RemoveLabel { label, .. } => label.len(),
            Action::CheckRun(run) => {
                run.name.len()
                    + run.title.len()
                    + run.summary.len()
                    + run.text.as_ref().map_or(0, String::len)
                    + run
                        .annotations
                        .iter()
                        .map(|a| a.path.len() + a.message.len() + 16)
                        .sum::<usize>()
            }
            Action::Artifact(artifact) => artifact.data.len() + artifact.name.len(),
            Action::KvSet { key, value } => key.len() + value.0.len(),
            Action::Fail { reason } => reason.len(),
            Action::RegisterVersion(r) => {
                r.name.len()
                    + r.version.as_ref().map_or(0, String::len)
                    + r.path.as_ref().map_or(0, String::len)
                    + r.content_hash.as_ref().map_or(0, String::len)
                    + r.metrics.as_ref().map_or(0, String::len)
            }
            Action::AssignStage {
                name,
                version,
                stage,
            } => name.len() + version.len() + stage.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_values_round_trip_through_json() {
        for bytes in [b"plain".to_vec(), vec![0xff, 0x00, 0x10]] {
            let action = Action::KvSet {
                key: "k".into(),
                value: KvValue(bytes),
            };
            let json = serde_json::to_string(&action).expect("serializes");
            let back: Action = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, action);
        }
    }

    #[test]
    fn actions_serialize_with_a_kebab_case_kind() {
        let json = serde_json::to_value(Action::AddLabel {
            label: "size/XS".into(),
            number: None,
        })
        .expect("serializes");
        assert_eq!(json["kind"], "add-label");
        assert_eq!(json["label"], "size/XS");
    }
}
