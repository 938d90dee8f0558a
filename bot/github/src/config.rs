//! Where GitHub is and whom andon acts as there.

use secrecy::SecretString;

/// Where GitHub is and how to authenticate.
///
/// `Debug` never shows a secret: [`SecretString`] prints as redacted.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// `https://api.github.com`, a GitHub Enterprise URL
    /// (`https://ghe.example.com/api/v3`), or a fake for tests.
    pub api_url: String,
    pub credentials: Credentials,
}

/// Whom andon acts as.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A personal, fine-grained or installation token. Installation ids in
    /// effects are ignored.
    Token(SecretString),
    /// A GitHub App: a JWT signed with the private key authenticates as the
    /// App, which mints one installation token per installation id.
    App {
        app_id: u64,
        /// The PEM file GitHub generates (`-----BEGIN RSA PRIVATE KEY-----`).
        private_key_pem: SecretString,
    },
}
