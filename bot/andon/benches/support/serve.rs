//! Start the real `andon serve` for a benchmark and learn its address.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `andon serve` on a free loopback port with `data` as its data
/// directory and `env` on top of a clean environment for andon's own
/// variables; its stdout is drained, its stderr goes to `stderr`. Answers
/// the child and the base URL it printed.
pub fn start_serve(data: &Path, env: &[(&str, &str)], stderr: Stdio) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_andon"));
    command
        .arg("serve")
        .env("ANDON_LISTEN", "127.0.0.1:0")
        .env("ANDON_DATA_DIR", data)
        .env("ANDON_WEBHOOK_SECRET", "bench-secret");
    for inherited in [
        "ANDON_GITHUB_TOKEN",
        "ANDON_GITHUB_API_URL",
        "ANDON_DASHBOARD_TOKEN",
        "ANDON_LOG",
        "ANDON_LOG_FORMAT",
        "ANDON_METRICS",
    ] {
        command.env_remove(inherited);
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start andon serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("andon serve exited").expect("read");
        if let Some(url) = line.strip_prefix("andon listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// The CPU time a process has used so far (user + system), from
/// `/proc/PID/stat`, in microseconds (the kernel counts in USER_HZ ticks,
/// 100 a second on Linux).
#[allow(
    dead_code,
    reason = "each bench that includes this file uses what it needs"
)]
pub fn cpu_us(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's closing parenthesis, utime and stime are the
    // 12th and 13th fields (the 14th and 15th of the whole line).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000)
}
