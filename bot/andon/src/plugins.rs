//! Finding a step's plugin: a bundled one by name, or a `.wasm` file in the
//! repository pinned by sha256.

use std::path::Path;
use std::sync::Arc;

use andon_core::Manifest;
use andon_core::workflow::{PluginRef, closest};
use andon_git::Repo;
use andon_host::{Plugin, PluginHost};
use anyhow::{Context, bail};

/// The names of the plugins bundled in this binary.
pub fn bundled_names() -> Vec<&'static str> {
    andon_bundle::STOCK.iter().map(|p| p.name).collect()
}

/// Whether `uses` names a plugin that exists, with a hint when not.
pub fn check_bundled(name: &str) -> Result<(), String> {
    if andon_bundle::stock(name).is_some() {
        return Ok(());
    }
    let names = bundled_names();
    Err(match closest(name, &names) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("bundled plugins: {}", names.join(", ")),
    })
}

/// Where a workflow's `.wasm` plugin files are read from.
pub enum PluginFiles<'a> {
    /// A work tree on disk (`andon run`): paths are relative to its root.
    WorkTree(&'a Path),
    /// A commit of a repository (`andon serve`: the default branch of the
    /// mirror, so a pull request cannot swap a plugin).
    Commit { repo: &'a Repo, rev: &'a str },
}

impl PluginFiles<'_> {
    fn read(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        match self {
            PluginFiles::WorkTree(root) => {
                let file = root.join(path);
                std::fs::read(&file)
                    .with_context(|| format!("cannot read plugin {}", file.display()))
            }
            PluginFiles::Commit { repo, rev } => repo
                .read_file(rev, path)
                .with_context(|| format!("cannot read plugin {path} at {rev}"))?
                .with_context(|| format!("plugin file {path} does not exist at {rev}")),
        }
    }
}

/// Load the plugin a step uses.
pub fn load(
    host: &PluginHost,
    uses: &PluginRef,
    files: &PluginFiles<'_>,
) -> anyhow::Result<Arc<Plugin>> {
    match uses {
        PluginRef::Bundled(name) => {
            let Some(plugin) = andon_bundle::stock(name) else {
                let hint = check_bundled(name).err().unwrap_or_default();
                bail!("no bundled plugin is called `{name}`: {hint}");
            };
            Ok(host.load(name, plugin.wasm, None)?)
        }
        PluginRef::Path { path, sha256 } => {
            let wasm = files.read(path)?;
            Ok(host.load(path, &wasm, sha256.as_deref())?)
        }
    }
}

/// Compile (or load from the on-disk cache) every bundled plugin, so the
/// first event does not wait for it.
pub fn warm(host: &PluginHost) {
    for plugin in andon_bundle::STOCK {
        if let Err(error) = host.load(plugin.name, plugin.wasm, None) {
            tracing::warn!(plugin = plugin.name, %error, "cannot load a bundled plugin");
        }
    }
}

/// The manifests of the plugins `workflows` use, by how their steps name
/// them (for `/andon help`); a plugin that does not load is left out.
pub fn manifests_for(
    host: &PluginHost,
    workflows: &[&andon_core::workflow::Workflow],
    files: &PluginFiles<'_>,
) -> Vec<(String, Manifest)> {
    let mut seen = std::collections::HashSet::new();
    workflows
        .iter()
        .flat_map(|w| &w.steps)
        .filter(|step| seen.insert(step.uses.display_name().to_string()))
        .filter_map(|step| {
            let plugin = load(host, &step.uses, files).ok()?;
            let manifest = host.manifest(&plugin).ok()?;
            Some((step.uses.display_name().to_string(), manifest))
        })
        .collect()
}
