//! Runs a child process and measures it the way `time -v` would: wall
//! time, user and system CPU time and peak resident memory, from the
//! `rusage` that `wait4` returns for that child alone.

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What one child run cost, and what it printed.
#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size, in bytes.
    pub max_rss: u64,
    /// The exit code, `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Measured {
    /// User plus system time.
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// Runs `cmd` to completion with its output captured, and measures it.
pub fn run(cmd: &mut Command) -> io::Result<Measured> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                // A read error leaves what was read; the exit code tells more.
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let (status, usage) = wait4(child.id())?;
    let wall = started.elapsed();
    let join = |h: thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    Ok(Measured {
        wall,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        // Linux reports kilobytes.
        max_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Reaps child `pid`, returning its wait status and resource usage.
#[allow(
    unsafe_code,
    reason = "wait4 is the one call that gives a single child's rusage; std has no wrapper"
)]
fn wait4(pid: u32) -> io::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the right
        // types, and `pid` is our own child, not yet reaped.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child() {
        let m = run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .expect("sh runs");
        assert_eq!(m.code, Some(3));
        assert_eq!(m.stdout, b"out\n");
        assert_eq!(m.stderr, b"err\n");
        assert!(m.max_rss > 0);
        assert!(m.wall >= m.cpu() / 4);
    }
}
