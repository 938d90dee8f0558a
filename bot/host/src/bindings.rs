//! The one `bindgen!` of the plugin contract in `wit/`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
    with: {
        "andon:plugin/host.blob": crate::state::BlobHandle,
        "andon:plugin/dataset.reader": crate::dataset_host::ReaderHandle,
    },
    imports: { default: trappable },
});

pub use andon::plugin::dataset as wit_dataset;
pub use andon::plugin::host as wit_host;
pub use andon::plugin::types as wit;
