//! The `bindgen!`s of the plugin contract: the current package in `wit/`
//! and every earlier one still served, frozen in `wit/vX.Y.Z/`.
//!
//! Both derive serde so that [`crate::compat`] can move values between a
//! version's types and the current ones by name.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
    with: {
        "andon:plugin/host.blob": crate::state::BlobHandle,
        "andon:plugin/dataset.reader": crate::dataset_host::ReaderHandle,
    },
    imports: { default: trappable },
    additional_derives: [serde::Serialize, serde::Deserialize],
});

pub use andon::plugin::dataset as wit_dataset;
pub use andon::plugin::host as wit_host;
pub use andon::plugin::types as wit;

/// `andon:plugin@0.1.0`, as shipped with andon 0.1.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1.0",
        world: "plugin",
        with: {
            "andon:plugin/host.blob": crate::state::BlobHandle,
            "andon:plugin/dataset.reader": crate::dataset_host::ReaderHandle,
        },
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize],
    });

    pub use andon::plugin::dataset as wit_dataset;
    pub use andon::plugin::host as wit_host;
    pub use andon::plugin::types as wit;
}
