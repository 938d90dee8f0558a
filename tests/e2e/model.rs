//! The model registry end to end: `andon model ...` on real repositories, GTO interoperability, `model-register` through `andon run`.
