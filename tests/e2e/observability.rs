//! observability end-to-end tests (issue 7).
