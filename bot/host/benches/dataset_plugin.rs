//! Rows per second through a plugin: the testbed opens the 1M-row orders
//! CSV with `dataset.open`, takes every batch with `reader.next` and sums
//! the columns, in one step (a fresh instance, as in production). Against
//! the parser alone on the same columns, the gap is the cost of crossing
//! into the guest (lowering each batch into linear memory) plus the
//! plugin's loop; smaller batches show the per-call part of it.

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/orders.rs"]
mod orders;

use std::sync::Arc;
use std::time::Duration;

use andon_core::change::Side;
use andon_core::event::{Event, EventKind};
use andon_core::limits::Limits;
use andon_host::dataset::{ColumnRequest, ColumnType, Format, Parser, Pipelined, ReadOptions};
use andon_host::{HostConfig, Invocation, PluginHost, ReadError, StepInputs, Stream};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

const ROWS: usize = 1_000_000;
const PATH: &str = "data/orders.csv";

/// The orders file at the head, shared between iterations.
struct Orders(Arc<[u8]>);

impl StepInputs for Orders {
    fn open_stream(&self, side: Side, path: &str) -> Result<Stream, ReadError> {
        if side != Side::Head || path != PATH {
            return Err(ReadError::NotFound);
        }
        Ok(Stream {
            reader: Box::new(std::io::Cursor::new(self.0.clone())),
            size: self.0.len() as u64,
            content_id: String::new(),
        })
    }
}

fn native(data: &Arc<[u8]>, columns: &[(&str, ColumnType)], batch_rows: usize) -> i64 {
    let mut options = ReadOptions::new(
        Format::Csv,
        columns
            .iter()
            .map(|(name, kind)| ColumnRequest {
                name: (*name).into(),
                kind: *kind,
            })
            .collect(),
    );
    options.batch_rows = batch_rows;
    let parser =
        Parser::open(Box::new(std::io::Cursor::new(data.clone())), &options).expect("opens");
    let mut reader = Pipelined::spawn(parser).expect("spawns");
    let mut sum = 0i64;
    while let Some(batch) = reader.next_batch().expect("parses") {
        if let Some(andon_host::dataset::Values::Int(ints)) =
            batch.columns.first().map(|c| &c.values)
        {
            sum = sum.wrapping_add(ints.iter().sum::<i64>());
        }
    }
    sum
}

fn benches(c: &mut Criterion) {
    let data: Arc<[u8]> = orders::csv(ROWS).into();
    let host = PluginHost::new(HostConfig::default()).expect("host");
    let testbed = host
        .load("testbed", andon_bundle::testing::TESTBED, None)
        .expect("testbed");
    let event = Event::new(EventKind::Manual, "octo/repo", "a".repeat(40));
    let inputs: Arc<dyn StepInputs> = Arc::new(Orders(data.clone()));
    let limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::DEFAULT
    };

    let mut group = c.benchmark_group("dataset through a plugin, 1M rows");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(ROWS as u64));
    use ColumnType::*;
    let one_int = [("quantity", Int)];
    let all = [
        ("id", Int),
        ("email", Text),
        ("status", Text),
        ("amount", Float),
        ("quantity", Int),
        ("country", Text),
        ("created_at", Timestamp),
        ("shipped_on", Date),
    ];
    for (name, columns) in [
        ("1 int column", &one_int[..]),
        ("8 typed columns", &all[..]),
    ] {
        for batch_rows in [4_096, 65_536] {
            let config = json!({
                "mode": "dataset",
                "path": PATH,
                "batch_rows": batch_rows,
                "columns": columns
                    .iter()
                    .map(|(name, kind)| json!({ "name": name, "type": type_name(*kind) }))
                    .collect::<Vec<_>>(),
            });
            let invocation = Invocation {
                event: &event,
                workflow: "bench",
                step_id: "read",
                config: &config,
            };
            let step = || {
                let outcome = host.run_step(&testbed, invocation, inputs.clone(), &limits);
                assert_eq!(outcome.result, Ok(Vec::new()), "{}", outcome.log);
                let rows = &outcome.outputs["dataset"]["rows"];
                assert_eq!(rows, ROWS, "{}", outcome.outputs["dataset"]);
            };
            let plugin = format!("{name}, batches of {batch_rows}: plugin step");
            let alone = format!("{name}, batches of {batch_rows}: parser alone");
            group.bench_function(&plugin, |b| b.iter(step));
            group.bench_function(&alone, |b| {
                b.iter(|| native(&data, columns, batch_rows));
            });
            cpu::report(&plugin, ROWS as u64, 10, step);
            cpu::report(&alone, ROWS as u64, 10, || {
                native(&data, columns, batch_rows);
            });
        }
    }
    group.finish();
}

fn type_name(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::Text => "text",
        ColumnType::Int => "int",
        ColumnType::Float => "float",
        ColumnType::Boolean => "boolean",
        ColumnType::Date => "date",
        ColumnType::Timestamp => "timestamp",
    }
}

criterion_group!(dataset_plugin, benches);
criterion_main!(dataset_plugin);
