//! The native dataset parser alone, in rows per second: a 1M-row, 8-column
//! orders CSV (85 MB) read with every column typed, with one int column,
//! with no column (splitting rows only), and through the pipeline thread.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/orders.rs"]
mod orders;

use std::time::Duration;

use andon_host::dataset::{ColumnRequest, ColumnType, Format, Parser, Pipelined, ReadOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 1_000_000;

fn all_columns() -> Vec<ColumnRequest> {
    use ColumnType::*;
    [
        ("id", Int),
        ("email", Text),
        ("status", Text),
        ("amount", Float),
        ("quantity", Int),
        ("country", Text),
        ("created_at", Timestamp),
        ("shipped_on", Date),
    ]
    .into_iter()
    .map(|(name, kind)| ColumnRequest {
        name: name.into(),
        kind,
    })
    .collect()
}

fn options(columns: Vec<ColumnRequest>) -> ReadOptions {
    ReadOptions::new(Format::Csv, columns)
}

/// Reads every batch; returns the rows.
fn parse(data: &std::sync::Arc<[u8]>, options: &ReadOptions, pipelined: bool) -> u64 {
    let reader = Box::new(std::io::Cursor::new(data.clone()));
    let parser = Parser::open(reader, options).expect("opens");
    let mut rows = 0;
    if pipelined {
        let mut parser = Pipelined::spawn(parser).expect("spawns");
        while let Some(batch) = parser.next_batch().expect("parses") {
            rows += u64::from(batch.rows);
        }
    } else {
        let mut parser = parser;
        while let Some(batch) = parser.next_batch().expect("parses") {
            rows += u64::from(batch.rows);
        }
    }
    assert_eq!(rows, ROWS as u64);
    rows
}

fn benches(c: &mut Criterion) {
    let data: std::sync::Arc<[u8]> = orders::csv(ROWS).into();
    let mut group = c.benchmark_group("dataset parser, 1M rows");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(ROWS as u64));
    let all = options(all_columns());
    let one_int = options(vec![ColumnRequest {
        name: "quantity".into(),
        kind: ColumnType::Int,
    }]);
    let none = options(Vec::new());
    let mut hashed = options(Vec::new());
    hashed.row_hashes = true;
    group.bench_function("8 typed columns", |b| b.iter(|| parse(&data, &all, false)));
    group.bench_function("1 int column", |b| b.iter(|| parse(&data, &one_int, false)));
    group.bench_function("rows only", |b| b.iter(|| parse(&data, &none, false)));
    group.bench_function("row hashes only", |b| {
        b.iter(|| parse(&data, &hashed, false));
    });
    group.bench_function("8 typed columns, pipelined", |b| {
        b.iter(|| parse(&data, &all, true));
    });
    group.finish();

    for (name, options, pipelined) in [
        ("8 typed columns", &all, false),
        ("1 int column", &one_int, false),
        ("rows only", &none, false),
        ("row hashes only", &hashed, false),
        ("8 typed columns, pipelined", &all, true),
    ] {
        cpu::report(name, ROWS as u64, 10, || {
            parse(&data, options, pipelined);
        });
    }
}

criterion_group!(dataset, benches);
criterion_main!(dataset);
