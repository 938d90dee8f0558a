//! The typed plugin API: [`Plugin`] is what an author implements, [`Host`]
//! is what the plugin may ask of andon, and [`plugin!`](crate::plugin)
//! wires the two to the component's exports.
//!
//! Logic written against `&dyn Host` runs the same inside the component
//! (through [`WasmHost`]) and in a native `cargo test` (through
//! [`crate::testing::FakeHost`]), so a plugin is tested without wasm.

use crate::types::{
    Action, AddedLine, ChangedFile, Invocation, LogLevel, Manifest, PluginError, PullRequest,
    ReadError, Side,
};

/// What a plugin may ask of the host: read-only and scoped to the event's
/// repository and the plugin's own kv namespace. Changes are never made
/// here; they are the [`Action`]s `run` returns.
pub trait Host {
    /// A line in the step's log.
    fn log(&self, level: LogLevel, message: &str);
    /// The files changed between the event's base and head.
    fn changed_files(&self) -> Vec<ChangedFile>;
    /// The added lines of one changed file.
    fn added_lines(&self, path: &str) -> Vec<AddedLine>;
    /// A whole file at the base or head revision.
    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError>;
    /// A value an earlier run stored with a `kv-set` action.
    fn kv_get(&self, key: &str) -> Option<Vec<u8>>;
    /// Set a step output to a JSON value.
    fn set_output(&self, name: &str, json: &str) -> Result<(), String>;
    /// The repository's open pull requests.
    fn open_pull_requests(&self) -> Result<Vec<PullRequest>, String>;

    /// A file as UTF-8 text; `None` when it does not exist at `side`.
    /// Invalid UTF-8 or another read error is an `Err` with a message.
    fn read_text(&self, side: Side, path: &str) -> Result<Option<String>, String> {
        match self.read_file(side, path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("`{path}` is not UTF-8")),
            Err(ReadError::NotFound) => Ok(None),
            Err(error) => Err(format!(
                "cannot read `{path}`: {}",
                read_error_message(&error)
            )),
        }
    }

    /// Shorthand for an `info` log line.
    fn info(&self, message: &str) {
        self.log(LogLevel::Info, message);
    }
}

/// A read error as a phrase for a message.
pub fn read_error_message(error: &ReadError) -> String {
    match error {
        ReadError::NotFound => "not found".into(),
        ReadError::InvalidPath(why) => format!("invalid path: {why}"),
        ReadError::NoRevision => "the event has no revision on that side".into(),
        ReadError::TooLarge(size) => format!("too large ({size} bytes); stream it with open-blob"),
        ReadError::Other(message) => message.clone(),
    }
}

/// A plugin: a manifest and a `run` over the invocation and the host.
///
/// ```ignore
/// struct Hold;
/// impl andon_pdk::Plugin for Hold {
///     fn describe() -> Manifest { /* … */ }
///     fn run(inv: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError> { /* … */ }
/// }
/// andon_pdk::plugin!(Hold);
/// ```
pub trait Plugin {
    /// Name, version, events, commands, permissions and config schema.
    fn describe() -> Manifest;
    /// The actions this event calls for.
    fn run(invocation: Invocation, host: &dyn Host) -> Result<Vec<Action>, PluginError>;
}

/// The real host, inside the component. Natively its functions panic:
/// tests use [`crate::testing::FakeHost`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WasmHost;

impl Host for WasmHost {
    fn log(&self, level: LogLevel, message: &str) {
        crate::host::log(level, message);
    }

    fn changed_files(&self) -> Vec<ChangedFile> {
        crate::host::changed_files()
    }

    fn added_lines(&self, path: &str) -> Vec<AddedLine> {
        crate::host::added_lines(path)
    }

    fn read_file(&self, side: Side, path: &str) -> Result<Vec<u8>, ReadError> {
        crate::host::read_file(side, path)
    }

    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        crate::host::kv_get(key)
    }

    fn set_output(&self, name: &str, json: &str) -> Result<(), String> {
        crate::host::set_output(name, json)
    }

    fn open_pull_requests(&self) -> Result<Vec<PullRequest>, String> {
        crate::host::open_pull_requests()
    }
}

/// Makes a type that implements [`Plugin`] the component's export, run
/// against the real host: `andon_pdk::plugin!(MyPlugin);`.
#[macro_export]
macro_rules! plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __AndonGuest;

        impl $crate::Guest for __AndonGuest {
            fn describe() -> $crate::types::Manifest {
                <$plugin as $crate::Plugin>::describe()
            }

            fn run(
                invocation: $crate::types::Invocation,
            ) -> ::core::result::Result<
                ::std::vec::Vec<$crate::types::Action>,
                $crate::types::PluginError,
            > {
                <$plugin as $crate::Plugin>::run(invocation, &$crate::WasmHost)
            }
        }

        $crate::export!(__AndonGuest);
    };
}

/// Repository permission levels, lowest first, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RepoPermission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl RepoPermission {
    /// Parse `read`, `triage`, `write`, `maintain` or `admin` (also
    /// GitHub's legacy `pull` and `push`); anything else is `None`.
    pub fn parse(text: &str) -> RepoPermission {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" => RepoPermission::Admin,
            "maintain" => RepoPermission::Maintain,
            "write" | "push" => RepoPermission::Write,
            "triage" => RepoPermission::Triage,
            "read" | "pull" => RepoPermission::Read,
            _ => RepoPermission::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepoPermission::None => "none",
            RepoPermission::Read => "read",
            RepoPermission::Triage => "triage",
            RepoPermission::Write => "write",
            RepoPermission::Maintain => "maintain",
            RepoPermission::Admin => "admin",
        }
    }

    /// The event author's permission, as the host looked it up; `None`
    /// when it did not (events other than comments and reviews).
    pub fn of_author(invocation: &Invocation) -> RepoPermission {
        invocation
            .event
            .author_permission
            .as_deref()
            .map_or(RepoPermission::None, RepoPermission::parse)
    }
}

impl std::fmt::Display for RepoPermission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
