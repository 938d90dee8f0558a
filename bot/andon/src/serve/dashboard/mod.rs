//! The dashboard: server-rendered HTML pages under `/` (issue 7).

use std::sync::Arc;

use axum::Router;

use super::Shared;

/// The dashboard's routes.
pub fn router(_shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
}

/// Who may read the dashboard and `/metrics`: anyone who can reach a
/// server bound to loopback, otherwise whoever presents the token.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<String>,
    loopback: bool,
}

impl Access {
    pub fn new(token: Option<String>, loopback: bool) -> Access {
        Access {
            token: token.filter(|t| !t.is_empty()),
            loopback,
        }
    }

    /// The configured token, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether the server listens on a loopback address.
    pub fn loopback(&self) -> bool {
        self.loopback
    }
}
