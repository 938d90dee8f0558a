//! How loading a plugin or running a step can fail. A trap, an exhausted
//! limit and an error the plugin returned are distinct: the first two are
//! the host's verdict, the last is the plugin's own word.

use std::time::Duration;

/// Loading (reading, verifying, compiling, linking) a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("plugin `{plugin}`: cannot read {path}: {message}")]
    Read {
        plugin: String,
        path: String,
        message: String,
    },
    #[error("plugin `{plugin}`: sha256 is {actual}, but the workflow pins {expected}")]
    PinMismatch {
        plugin: String,
        expected: String,
        actual: String,
    },
    #[error("plugin `{plugin}` is not a valid andon component: {message}")]
    Invalid { plugin: String, message: String },
    #[error("plugin host setup failed: {0}")]
    Engine(String),
}

/// A step did not produce actions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("plugin `{plugin}` ran past its time limit of {}", humanize(*limit))]
    Timeout { plugin: String, limit: Duration },
    #[error("plugin `{plugin}` ran out of memory: it asked for more than its limit of {} MiB", limit >> 20)]
    OutOfMemory { plugin: String, limit: usize },
    #[error("plugin `{plugin}` used up its fuel budget of {limit}")]
    OutOfFuel { plugin: String, limit: u64 },
    #[error("plugin `{plugin}` returned {size} bytes of actions, more than its limit of {limit}")]
    OutputTooLarge {
        plugin: String,
        size: usize,
        limit: usize,
    },
    #[error("plugin `{plugin}` crashed: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin `{plugin}` rejected its configuration: {message}")]
    InvalidConfig { plugin: String, message: String },
    #[error("plugin `{plugin}` failed: {message}")]
    Failed { plugin: String, message: String },
    #[error("plugin `{plugin}` could not start: {message}")]
    Instantiate { plugin: String, message: String },
}

impl StepError {
    /// A short name for the kind of failure, for metrics and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            StepError::Timeout { .. } => "timeout",
            StepError::OutOfMemory { .. } => "out-of-memory",
            StepError::OutOfFuel { .. } => "out-of-fuel",
            StepError::OutputTooLarge { .. } => "output-too-large",
            StepError::Trap { .. } => "trap",
            StepError::InvalidConfig { .. } => "invalid-config",
            StepError::Failed { .. } => "plugin-error",
            StepError::Instantiate { .. } => "instantiate",
        }
    }

    /// The limit this error says the step hit: `timeout`, `memory`, `fuel`
    /// or `output`; `None` for failures that are not a limit.
    pub fn limit(&self) -> Option<&'static str> {
        match self {
            StepError::Timeout { .. } => Some("timeout"),
            StepError::OutOfMemory { .. } => Some("memory"),
            StepError::OutOfFuel { .. } => Some("fuel"),
            StepError::OutputTooLarge { .. } => Some("output"),
            _ => None,
        }
    }

    /// [`StepError::limit`] from the error's message, as a run's record
    /// keeps it (the record stores the text, not the variant). Matches the
    /// fixed parts of the messages above; a test keeps the two in step.
    pub fn limit_in_message(message: &str) -> Option<&'static str> {
        const FRAGMENTS: [(&str, &str); 4] = [
            ("` ran past its time limit of ", "timeout"),
            ("` ran out of memory: ", "memory"),
            ("` used up its fuel budget of ", "fuel"),
            (" bytes of actions, more than its limit of ", "output"),
        ];
        let first_line = message.lines().next().unwrap_or("");
        FRAGMENTS
            .iter()
            .find(|(fragment, _)| first_line.contains(fragment))
            .map(|(_, limit)| *limit)
    }

    /// Whether the plugin itself said it failed, as opposed to the host
    /// stopping it.
    pub fn is_plugin_error(&self) -> bool {
        matches!(
            self,
            StepError::InvalidConfig { .. } | StepError::Failed { .. }
        )
    }
}

fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        // A limit cut down to what a run's deadline left is not round:
        // milliseconds are precision enough (`1.09 s`, `30 s`).
        let text = format!("{:.3}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_read_back_from_every_message() {
        let plugin = || "p".to_string();
        let errors = [
            StepError::Timeout {
                plugin: plugin(),
                limit: Duration::from_millis(1500),
            },
            StepError::OutOfMemory {
                plugin: plugin(),
                limit: 64 << 20,
            },
            StepError::OutOfFuel {
                plugin: plugin(),
                limit: 10,
            },
            StepError::OutputTooLarge {
                plugin: plugin(),
                size: 10,
                limit: 5,
            },
            StepError::Trap {
                plugin: plugin(),
                message: "unreachable".into(),
            },
            StepError::Failed {
                plugin: plugin(),
                message: "ran past its time limit of".into(),
            },
        ];
        for error in errors {
            assert_eq!(
                StepError::limit_in_message(&error.to_string()),
                error.limit(),
                "{error}"
            );
        }
    }
}
