//! `datagen`: writes the orders dataset, or runs the native baseline on one.
//!
//! ```text
//! datagen orders [--rows N] [--seed S] [--now UNIX_SECONDS] [--out FILE]
//! datagen check FILE [--now-us MICROS]
//! datagen suite
//! ```
//!
//! `orders` writes 5,000,000 rows by default, to stdout unless `--out` is
//! given; timestamps are relative to `--now`, by default today at 00:00
//! UTC, so a day's runs write the same bytes. `check` prints the baseline's
//! report as JSON; `now` defaults to the current time. `suite` prints the
//! suite the injected errors are aimed at.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use andon_datagen::native::{self, Checks};
use andon_datagen::orders::{self, Spec};

const USAGE: &str = "usage:
  datagen orders [--rows N] [--seed S] [--now UNIX_SECONDS] [--out FILE]
  datagen check FILE [--now-us MICROS]
  datagen suite";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datagen: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("orders") => generate(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("suite") => {
            print!("{}", orders::SUITE);
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`")),
        None => Err("a command is needed".into()),
    }
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The value after flag `args[i]`.
fn value(args: &[String], i: usize) -> Result<&str, String> {
    args.get(i + 1)
        .map(String::as_str)
        .ok_or_else(|| format!("`{}` needs a value", args[i]))
}

fn number<T: std::str::FromStr>(text: &str, flag: &str) -> Result<T, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{flag}` takes a number, not `{text}`"))
}

fn generate(args: &[String]) -> Result<(), String> {
    let today = now_micros() / 1_000_000 / 86_400 * 86_400;
    let mut spec = Spec::new(Spec::FULL_ROWS, today);
    let mut out: Option<PathBuf> = None;
    let mut i = 0;
    while i < args.len() {
        let v = value(args, i)?;
        match args[i].as_str() {
            "--rows" => spec.rows = number(v, "--rows")?,
            "--seed" => spec.seed = number(v, "--seed")?,
            "--now" => spec.now = number(v, "--now")?,
            "--out" => out = Some(PathBuf::from(v)),
            other => return Err(format!("unknown flag `{other}`")),
        }
        i += 2;
    }
    let injected = match &out {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            orders::write_orders(BufWriter::with_capacity(1 << 20, file), &spec)
        }
        None => orders::write_orders(
            BufWriter::with_capacity(1 << 20, io::stdout().lock()),
            &spec,
        ),
    }
    .map_err(|e| format!("cannot write: {e}"))?;
    eprintln!(
        "datagen: {} rows relative to {}, injected {injected:?}",
        spec.rows, spec.now
    );
    Ok(())
}

fn check(args: &[String]) -> Result<(), String> {
    let mut file: Option<PathBuf> = None;
    let mut now = now_micros();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--now-us" => {
                now = number(value(args, i)?, "--now-us")?;
                i += 2;
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag `{flag}`")),
            path => {
                file = Some(PathBuf::from(path));
                i += 1;
            }
        }
    }
    let file = file.ok_or("`check` needs a CSV file")?;
    let report = native::check_file(&file, &Checks::issue(), now)?;
    let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{json}").map_err(|e| e.to_string())
}
