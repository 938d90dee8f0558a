//! dashboard end-to-end tests (issue 7).
