//! Finding a step's plugin: a bundled one by name, or a `.wasm` file in the
//! repository pinned by sha256.

use std::path::Path;
use std::sync::Arc;

use andon_core::workflow::{PluginRef, closest};
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

/// Load the plugin a step uses. `root` is the repository's work tree.
pub fn load(host: &PluginHost, uses: &PluginRef, root: &Path) -> anyhow::Result<Arc<Plugin>> {
    match uses {
        PluginRef::Bundled(name) => {
            let Some(plugin) = andon_bundle::stock(name) else {
                let hint = check_bundled(name).err().unwrap_or_default();
                bail!("no bundled plugin is called `{name}`: {hint}");
            };
            Ok(host.load(name, plugin.wasm, None)?)
        }
        PluginRef::Path { path, sha256 } => {
            let file = root.join(path);
            let wasm = std::fs::read(&file)
                .with_context(|| format!("cannot read plugin {}", file.display()))?;
            Ok(host.load(path, &wasm, sha256.as_deref())?)
        }
    }
}
