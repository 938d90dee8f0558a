//! `fake-github`: the test kit's fake GitHub as a process, for demos and
//! benchmarks. Prints `fake-github listening on http://ADDR`, then one line
//! per call, and serves until killed.

use std::io::Write;
use std::net::SocketAddr;

use andon_testkit::FakeGitHub;
use andon_testkit::github::Permission;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "A fake GitHub REST API for andon demos and benchmarks")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Login of the token's user (`GET /user`, author of the bot's comments).
    #[arg(long, default_value = "andon-bot")]
    user: String,
    /// Role of every user on every repository (admin, maintain, write,
    /// triage, read, none); without it, permission checks answer 404.
    #[arg(long, value_parser = parse_permission)]
    default_permission: Option<Permission>,
}

fn parse_permission(name: &str) -> Result<Permission, String> {
    Permission::parse(name).ok_or_else(|| format!("unknown permission `{name}`"))
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let github = FakeGitHub::start_on(args.listen)?;
    github.set_user_comments_author(&args.user);
    github.set_default_permission(args.default_permission);
    github.on_call(|call| {
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop the server.
        let _ = writeln!(out, "{call}");
        let _ = out.flush();
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "fake-github listening on {}", github.url())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
