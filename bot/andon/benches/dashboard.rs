//! The dashboard's pages with 100,000 runs in the store (issue 7).

fn main() {}
