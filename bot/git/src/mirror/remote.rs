//! The network side of a mirror: checking the URL, cloning, fetching, and
//! answering the transport's requests for credentials from memory.

use std::sync::Once;
use std::sync::atomic::AtomicBool;

use gix::credentials::helper::Action;
use gix::credentials::protocol::Outcome;
use gix::remote::Direction;

use super::{Auth, REFSPECS};
use crate::GitError;

/// GitHub's user name for installation tokens sent as a password.
const TOKEN_USER: &str = "x-access-token";

/// Parses `url` and accepts only the transports a mirror may use (https,
/// http, `file://` and local paths: no ssh, which would run a program) and
/// no password inside the URL, where it would reach the mirror's config and
/// error messages. Errors never repeat the URL, which may hold a secret.
pub(super) fn parse_url(url: &str) -> Result<gix::Url, GitError> {
    let invalid = |reason| GitError::InvalidUrl { reason };
    let parsed =
        gix::url::parse(gix::bstr::BStr::new(url)).map_err(|_| invalid("not a git URL"))?;
    match parsed.scheme {
        gix::url::Scheme::Https | gix::url::Scheme::Http | gix::url::Scheme::File => {}
        _ => {
            return Err(invalid(
                "only https, http, file:// and local paths are allowed",
            ));
        }
    }
    if parsed.password().is_some() {
        return Err(invalid(
            "a password in the URL; pass the token as Auth instead",
        ));
    }
    Ok(parsed)
}

/// Clones `url` into the empty directory `dest` as a bare repository with
/// the mirror refspecs. On failure gix removes what it made in `dest`.
pub(super) fn clone_bare(
    url: &gix::Url,
    dest: &std::path::Path,
    auth: Option<&Auth>,
) -> Result<(), gix::Error> {
    install_tls_provider();
    let token = token(auth);
    let mut prepare = gix::clone::PrepareFetch::new(
        url.clone(),
        dest,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        open_options(),
    )?
    .configure_remote(|remote| {
        Ok(remote
            .with_refspecs(REFSPECS, Direction::Fetch)?
            .with_fetch_tags(gix::remote::fetch::Tags::None))
    })
    .configure_connection(move |connection| {
        connection.set_credentials(credentials(token.clone()));
        Ok(())
    });
    prepare.fetch_only(gix::progress::Discard, &AtomicBool::new(false))?;
    Ok(())
}

/// Fetches the mirror refspecs from `url` into `repo`, refs written to
/// `packed-refs` only, as the clone did.
pub(super) fn fetch(
    repo: &gix::Repository,
    url: &gix::Url,
    auth: Option<&Auth>,
) -> Result<(), gix::Error> {
    install_tls_provider();
    let remote = repo
        .remote_at_without_url_rewrite(url.clone())?
        .with_refspecs(REFSPECS, Direction::Fetch)?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    remote
        .connect(Direction::Fetch)?
        .with_credentials(credentials(token(auth)))
        .prepare_fetch(gix::progress::Discard, Default::default())?
        .with_write_packed_refs_only(true)
        .receive(gix::progress::Discard, &AtomicBool::new(false))?;
    Ok(())
}

/// How mirrors are opened and cloned: only the repository's own config,
/// no user or system config and no `GIT_*` variables, so that a server's
/// mirrors behave the same whatever account runs it (no credential helpers,
/// no URL rewrites, no prompts).
pub(crate) fn open_options() -> gix::open::Options {
    gix::open::Options::isolated()
}

fn token(auth: Option<&Auth>) -> Option<String> {
    auth.map(|auth| auth.token.clone())
}

/// Answers the transport's credential requests with the token, or with
/// nothing (the fetch then fails as unauthenticated) when there is none.
/// The store and erase follow-ups are ignored: nothing is persisted.
fn credentials(
    token: Option<String>,
) -> impl FnMut(Action) -> Result<Option<Outcome>, gix::Error> + 'static {
    move |action| match (action, &token) {
        (Action::Get(context), Some(token)) => Ok(Some(Outcome {
            identity: gix::sec::identity::Account {
                username: TOKEN_USER.to_owned(),
                password: token.clone(),
                oauth_refresh_token: None,
            },
            next: context.into(),
        })),
        _ => Ok(None),
    }
}

/// reqwest is built without a crypto provider of its own (its default is
/// aws-lc, a C build, next to the ring provider the GitHub client already
/// uses), so the process default must be ring before the first https fetch.
/// Another one installed first is kept: either works.
fn install_tls_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://github.com/octo/widgets.git",
            "http://localhost:8080/octo/widgets",
            "https://x-access-token@github.com/octo/widgets.git",
            "file:///srv/git/widgets.git",
            "/srv/git/widgets",
        ] {
            assert!(parse_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ssh://git@github.com/octo/widgets.git",
            "git@github.com:octo/widgets.git",
            "git://github.com/octo/widgets.git",
            "https://x-access-token:ghs_secret@github.com/octo/widgets.git",
        ] {
            let err = parse_url(bad).expect_err(bad);
            assert!(matches!(err, GitError::InvalidUrl { .. }), "{bad}: {err:?}");
            assert!(!err.to_string().contains("ghs_secret"), "{err}");
        }
    }

    #[test]
    fn credentials_answer_get_with_the_token_and_ignore_the_rest() {
        let mut answer = credentials(Some("ghs_secret".to_owned()));
        let outcome = answer(Action::get_for_url("https://github.com/o/r.git"))
            .expect("no error")
            .expect("an identity");
        assert_eq!(outcome.identity.username, "x-access-token");
        assert_eq!(outcome.identity.password, "ghs_secret");
        assert!(answer(outcome.next.clone().store()).expect("ok").is_none());
        assert!(answer(outcome.next.erase()).expect("ok").is_none());

        let mut none = credentials(None);
        assert!(
            none(Action::get_for_url("https://github.com/o/r.git"))
                .expect("no error")
                .is_none()
        );
    }
}
