//! A plugin as it was written for `andon:plugin@0.1.0`, built against the
//! frozen `wit/v0.1.0`: the host must keep running it after the contract
//! moved on. On a pull request it reads the changed files and a file at
//! head, and asks for a comment and a label; on a comment it logs.

#![allow(
    unsafe_code,
    reason = "wit-bindgen's generated glue is unsafe canonical ABI code"
)]

wit_bindgen::generate!({
    path: "../../wit/v0.1.0",
    world: "plugin",
});

use andon::plugin::host;
// The world's `use` already brings `Action`, `Invocation`, `Manifest` and
// `PluginError` into this module.
use andon::plugin::types::{EventKind, LogLevel, Permission, Side};

struct Compat;

impl Guest for Compat {
    fn describe() -> Manifest {
        Manifest {
            name: "compat-v0-1".into(),
            version: "0.1.0".into(),
            description: "a plugin built against andon:plugin@0.1.0".into(),
            events: Vec::new(),
            commands: Vec::new(),
            permissions: vec![Permission::Comment, Permission::Labels],
            config_schema: None,
        }
    }

    fn run(inv: Invocation) -> Result<Vec<Action>, PluginError> {
        if inv.config.contains("\"fail\"") {
            return Err(PluginError::InvalidConfig("asked to fail".into()));
        }
        host::log(LogLevel::Info, &format!("kind {:?}", inv.event.kind));
        if inv.event.kind != EventKind::PullRequest {
            return Ok(Vec::new());
        }
        let files = host::changed_files();
        let readme = match host::read_file(Side::Head, "README.md") {
            Ok(bytes) => format!("{} bytes", bytes.len()),
            Err(error) => format!("{error:?}"),
        };
        Ok(vec![
            Action::Comment(format!(
                "andon:plugin@0.1.0 saw {} changed files in {}; README.md: {readme}",
                files.len(),
                inv.event.repository
            )),
            Action::AddLabel("compat/v0.1.0".into()),
        ])
    }
}

export!(Compat);
