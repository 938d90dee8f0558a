//! metrics-diff end to end: `andon run` on a pull request that changes metrics and params files.
