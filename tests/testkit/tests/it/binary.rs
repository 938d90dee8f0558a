//! The `fake-github` binary: announces its address, serves, logs calls.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use andon_testkit::client;

#[test]
fn fake_github_binary_serves_and_logs() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--user",
            "demo-bot",
            "--default-permission",
            "write",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("fake-github listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let user = client::send_blocking("GET", &format!("{url}/user"), &[], "").unwrap();
    assert_eq!(user.json()["login"], "demo-bot");
    let permission = format!("{url}/repos/o/r/collaborators/anyone/permission");
    let permission = client::send_blocking("GET", &permission, &[], "").unwrap();
    assert_eq!(permission.json()["permission"], "write");

    assert_eq!(lines.next().unwrap().unwrap(), "200 GET /user");
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "200 GET /repos/o/r/collaborators/anyone/permission"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
