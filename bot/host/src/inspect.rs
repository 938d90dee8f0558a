//! What a component imports and exports, by name and kind, for
//! `andon plugin inspect`: which WIT package versions a plugin was built
//! against, and which host functions it calls.

use wasmtime::component::Component;
use wasmtime::component::types::{ComponentInstance, ComponentItem};
use wasmtime::{Config, Engine, OptLevel};

use crate::error::LoadError;

/// The first four bytes of every WebAssembly binary.
const MAGIC: [u8; 4] = *b"\0asm";
/// The version and layer fields of a core module (version 1, layer 0).
const CORE_MODULE: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// A component's top-level imports and exports, in the order it declares
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interfaces {
    pub imports: Vec<Item>,
    pub exports: Vec<Item>,
}

/// One named import or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `andon:plugin/host@0.2.0`, `wasi:cli/stdin@0.2.6`, `run`.
    pub name: String,
    pub kind: ItemKind,
    /// For an instance (an interface): what it holds, one level deep.
    pub members: Vec<Item>,
}

/// What an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An instance of an interface.
    Instance,
    /// A component function.
    Func,
    /// A core WebAssembly function.
    CoreFunc,
    /// A core WebAssembly module.
    Module,
    /// A nested component.
    Component,
    /// A type.
    Type,
    /// A resource type.
    Resource,
}

impl ItemKind {
    /// The word `andon plugin inspect` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Instance => "interface",
            ItemKind::Func => "func",
            ItemKind::CoreFunc => "core-func",
            ItemKind::Module => "module",
            ItemKind::Component => "component",
            ItemKind::Type => "type",
            ItemKind::Resource => "resource",
        }
    }
}

impl Interfaces {
    /// The versions of `package` (`andon:plugin`) the imports and exports
    /// name (`andon:plugin/host@0.2.0` gives `0.2.0`), without repeats,
    /// in order of appearance.
    pub fn package_versions(&self, package: &str) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for item in self.imports.iter().chain(&self.exports) {
            let Some(rest) = item.name.strip_prefix(package) else {
                continue;
            };
            let Some((_, version)) = rest.strip_prefix('/').and_then(|r| r.split_once('@')) else {
                continue;
            };
            if !versions.iter().any(|v| v == version) {
                versions.push(version.to_string());
            }
        }
        versions
    }
}

/// Read the imports and exports of the component `wasm` (called `name` in
/// errors). A core module or anything that is not WebAssembly is refused
/// with a message that says which it is. This compiles the component on
/// an engine of its own, without optimizations, so it does not touch the
/// host's cache or limits.
pub fn component_interfaces(name: &str, wasm: &[u8]) -> Result<Interfaces, LoadError> {
    let invalid = |message: String| LoadError::Invalid {
        plugin: name.to_string(),
        message,
    };
    match (wasm.get(..4), wasm.get(4..8)) {
        (Some(magic), Some(version)) if magic == MAGIC => {
            if version == CORE_MODULE {
                return Err(invalid(
                    "it is a core WebAssembly module, not a component: build it with \
                     `--target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
                        .into(),
                ));
            }
        }
        _ => {
            return Err(invalid("it is not WebAssembly (no `\\0asm` header)".into()));
        }
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .cranelift_opt_level(OptLevel::None);
    let engine = Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
    let component = Component::new(&engine, wasm).map_err(|e| invalid(format!("{e:#}")))?;
    let ty = component.component_type();
    let imports = ty
        .imports(&engine)
        .map(|(name, ext)| item(&engine, name, &ext.ty))
        .collect();
    let exports = ty
        .exports(&engine)
        .map(|(name, ext)| item(&engine, name, &ext.ty))
        .collect();
    Ok(Interfaces { imports, exports })
}

fn item(engine: &Engine, name: &str, ty: &ComponentItem) -> Item {
    let (kind, members) = match ty {
        ComponentItem::ComponentInstance(instance) => {
            (ItemKind::Instance, members(engine, instance))
        }
        ComponentItem::ComponentFunc(_) => (ItemKind::Func, Vec::new()),
        ComponentItem::CoreFunc(_) => (ItemKind::CoreFunc, Vec::new()),
        ComponentItem::Module(_) => (ItemKind::Module, Vec::new()),
        ComponentItem::Component(_) => (ItemKind::Component, Vec::new()),
        ComponentItem::Type(_) => (ItemKind::Type, Vec::new()),
        ComponentItem::Resource(_) => (ItemKind::Resource, Vec::new()),
    };
    Item {
        name: name.to_string(),
        kind,
        members,
    }
}

fn members(engine: &Engine, instance: &ComponentInstance) -> Vec<Item> {
    instance
        .exports(engine)
        .map(|(name, ext)| match &ext.ty {
            // One level deep: an instance inside an instance is listed by
            // name only.
            ComponentItem::ComponentInstance(_) => Item {
                name: name.to_string(),
                kind: ItemKind::Instance,
                members: Vec::new(),
            },
            other => item(engine, name, other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_component() {
        let message = |wasm: &[u8]| {
            component_interfaces("x.wasm", wasm)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(message(b"hello world").contains("not WebAssembly"));
        assert!(message(b"\0asm\x01\0\0\0").contains("core WebAssembly module"));
    }

    #[test]
    fn names_the_package_versions() {
        let item = |name: &str| Item {
            name: name.into(),
            kind: ItemKind::Instance,
            members: Vec::new(),
        };
        let interfaces = Interfaces {
            imports: vec![
                item("wasi:cli/stdin@0.2.6"),
                item("andon:plugin/types@0.2.0"),
                item("andon:plugin/host@0.2.0"),
            ],
            exports: vec![item("run")],
        };
        assert_eq!(interfaces.package_versions("andon:plugin"), ["0.2.0"]);
        assert!(interfaces.package_versions("andon:other").is_empty());
    }
}
