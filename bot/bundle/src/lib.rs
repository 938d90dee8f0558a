//! The stock plugins, built for wasm32-wasip2 by `build.rs` and embedded as
//! component bytes, plus the testbed component for tests and benches.
//!
//! Building this crate needs the wasm32-wasip2 target
//! (`rustup target add wasm32-wasip2`).

/// A plugin shipped with andon.
#[derive(Debug)]
pub struct Plugin {
    /// The name from the plugin's manifest (`size`).
    pub name: &'static str,
    /// The WebAssembly component.
    pub wasm: &'static [u8],
}

/// The stock plugins, by manifest name.
pub const STOCK: &[Plugin] = &[
    Plugin {
        name: "size",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/size.wasm")),
    },
    Plugin {
        name: "secret-scan",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/secret-scan.wasm")),
    },
    Plugin {
        name: "data-check",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/data-check.wasm")),
    },
    Plugin {
        name: "data-diff",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/data-diff.wasm")),
    },
    Plugin {
        name: "etl",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/etl.wasm")),
    },
    Plugin {
        name: "metrics-diff",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/metrics-diff.wasm")),
    },
    Plugin {
        name: "model-register",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/model-register.wasm")),
    },
    Plugin {
        name: "lgtm",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/lgtm.wasm")),
    },
    Plugin {
        name: "approve",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/approve.wasm")),
    },
    Plugin {
        name: "hold",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/hold.wasm")),
    },
    Plugin {
        name: "label",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/label.wasm")),
    },
    Plugin {
        name: "andon-cord",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/andon-cord.wasm")),
    },
    Plugin {
        name: "pr-hygiene",
        wasm: include_bytes!(concat!(env!("OUT_DIR"), "/pr-hygiene.wasm")),
    },
];

/// The stock plugin called `name`, if there is one.
pub fn stock(name: &str) -> Option<&'static Plugin> {
    STOCK.iter().find(|p| p.name == name)
}

/// Components for the host's own tests and benches, never offered to users.
pub mod testing {
    /// The `testbed` component: misbehaves on purpose according to
    /// `with.mode` (see `plugins/testbed`).
    pub const TESTBED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/testbed.wasm"));

    /// A plugin built against the frozen `andon:plugin@0.1.0` contract
    /// (`plugins/compat-v0-1`), for the compatibility tests.
    pub const COMPAT_V0_1: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/compat-v0-1.wasm"));
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    #[test]
    fn stock_plugins_are_components() {
        let names: Vec<&str> = STOCK.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "size",
                "secret-scan",
                "data-check",
                "data-diff",
                "etl",
                "metrics-diff",
                "model-register",
                "lgtm",
                "approve",
                "hold",
                "label",
                "andon-cord",
                "pr-hygiene"
            ]
        );
        for plugin in STOCK {
            assert!(
                plugin.wasm.starts_with(&COMPONENT_HEADER),
                "{}",
                plugin.name
            );
        }
        assert!(testing::TESTBED.starts_with(&COMPONENT_HEADER));
    }

    #[test]
    fn lookup_by_name() {
        assert_eq!(stock("size").map(|p| p.name), Some("size"));
        assert_eq!(stock("secret-scan").map(|p| p.name), Some("secret-scan"));
        assert!(stock("testbed").is_none());
    }
}
