//! Rows per CPU-second of the whole process (every thread, the parser's
//! included), so that figures stay meaningful on a shared, loaded machine
//! where wall time also counts other processes: this is "rows per second
//! per core". Linux only; `None` elsewhere.

/// CPU time used by this process so far, in seconds (10 ms resolution).
fn process_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// Runs `run` (which reads `rows` rows) `times` times and prints rows per
/// CPU-second and per wall-second.
pub fn report(name: &str, rows: u64, times: u32, mut run: impl FnMut()) {
    let wall = std::time::Instant::now();
    let Some(before) = process_cpu() else {
        return;
    };
    for _ in 0..times {
        run();
    }
    let Some(after) = process_cpu() else {
        return;
    };
    let total = (rows * u64::from(times)) as f64;
    println!(
        "{name}: {:.2} M rows per CPU-second, {:.2} M rows per wall-second",
        total / (after - before).max(0.01) / 1e6,
        total / wall.elapsed().as_secs_f64() / 1e6,
    );
}
