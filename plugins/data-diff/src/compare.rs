//! The comparison of one dataset's two sides: schema, row counts, rows
//! added, removed and changed by key, and per-column statistics, in one
//! pass over each side.
//!
//! Memory: the smaller side (by bytes) is read first and kept as
//! key hash -> slot, with per slot a 32-bit hash of each compared cell and
//! the key's text (for sample keys); the other side streams past it and
//! only the keys it adds are remembered (to count duplicates). So the bound
//! is about `24 + 4·C + K` bytes per row of the smaller side (C compared
//! columns, K the key's length in bytes), plus 8 bytes per added row and
//! 4 KiB per column and side for distinct-value estimates: a million rows
//! of 8 compared columns with 8-byte keys take about 60 MiB. Keys are
//! matched by a 64-bit hash, so two different keys collide with odds of
//! about n²/2⁶⁵ (one in a million for 6 million rows); cells by 32 bits, so
//! a changed cell goes unseen with odds of 1 in 4 billion.

use std::collections::HashMap;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use crate::stats::{ColumnStats, Kind, Summary, hash64, mix};
use crate::table::{Table, TextBatch};

/// How to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The key columns; empty means the columns both sides share, so a row
    /// is added or removed but never changed.
    pub key: Vec<String>,
    /// Sample keys kept per kind of change.
    pub samples: usize,
}

/// What changed in the schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SchemaDiff {
    /// Columns only in head, with their inferred type.
    pub added: Vec<(String, Kind)>,
    /// Columns only in base, with their inferred type.
    pub removed: Vec<(String, Kind)>,
    /// Columns in both whose inferred type changed: (name, base, head).
    pub type_changes: Vec<(String, Kind, Kind)>,
    /// Columns in both sides appear in another order.
    pub reordered: bool,
}

/// A changed row: its key and the columns whose values changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedRow {
    pub key: String,
    pub columns: Vec<String>,
}

/// Rows matched by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RowDiff {
    /// The key columns used (the shared columns when none was given).
    pub key: Vec<String>,
    /// True when no key was given and rows were matched by all shared
    /// columns.
    pub whole_rows: bool,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Rows whose key already appeared on the same side (compared once).
    pub duplicate_keys: Sides,
    /// Rows with a null in a key column (not compared).
    pub null_keys: Sides,
    /// How many changed rows changed each column, most first.
    pub changed_columns: Vec<(String, u64)>,
    pub added_samples: Vec<String>,
    pub removed_samples: Vec<String>,
    pub changed_samples: Vec<ChangedRow>,
}

/// A count on each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sides {
    pub base: u64,
    pub head: u64,
}

/// One column's statistics on each side (absent on a side without it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDiff {
    pub name: String,
    pub base: Option<Summary>,
    pub head: Option<Summary>,
}

/// The whole comparison of one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetDiff {
    pub rows: Sides,
    pub columns_base: Vec<String>,
    pub columns_head: Vec<String>,
    pub schema: SchemaDiff,
    /// `None` when the rows could not be matched (a key column missing on a
    /// side); the reason is in `note`.
    pub row_diff: Option<RowDiff>,
    pub columns: Vec<ColumnDiff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The key hashes are already mixed: hash them no further.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Build = BuildHasherDefault<Identity>;

/// Which side a pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Base,
    Head,
}

/// The side kept in memory.
struct Kept {
    role: Role,
    slots: HashMap<u64, u32, Build>,
    /// `cells[slot * width..][..width]`: hashes of the compared cells.
    cells: Vec<u32>,
    width: usize,
    /// Key texts, `keys[offsets[slot]..offsets[slot + 1]]`.
    keys: Vec<u8>,
    key_offsets: Vec<u32>,
    matched: Vec<bool>,
}

/// Per-pass column positions.
struct Layout {
    key: Vec<usize>,
    compared: Vec<usize>,
}

/// Compares `base` (None when the dataset is new) with `head` (None when it
/// was deleted).
pub fn compare<'a>(
    base: Option<&'a mut dyn Table>,
    head: Option<&'a mut dyn Table>,
    options: &Options,
) -> Result<DatasetDiff, String> {
    let columns_base = base
        .as_ref()
        .map(|t| t.header().to_vec())
        .unwrap_or_default();
    let columns_head = head
        .as_ref()
        .map(|t| t.header().to_vec())
        .unwrap_or_default();
    // With one side missing (a new or deleted dataset) the other side's
    // columns stand for the shared ones.
    let shared: Vec<String> = match (base.is_some(), head.is_some()) {
        (true, false) => columns_base.clone(),
        (false, true) => columns_head.clone(),
        _ => columns_base
            .iter()
            .filter(|c| columns_head.contains(c))
            .cloned()
            .collect(),
    };
    let (key, whole_rows) = if options.key.is_empty() {
        (shared.clone(), true)
    } else {
        (options.key.clone(), false)
    };
    let missing_key = |columns: &[String], side: &str| {
        key.iter()
            .find(|k| !columns.contains(k))
            .map(|k| format!("the key column `{k}` is not in {side}, so rows are not matched"))
    };
    let mut note = None;
    if base.is_some() {
        note = missing_key(&columns_base, "base");
    }
    if head.is_some() && note.is_none() {
        note = missing_key(&columns_head, "head");
    }
    if key.is_empty() && note.is_none() {
        note = Some("the two sides share no column, so rows are not matched".into());
    }
    let matching = note.is_none();
    let compared: Vec<String> = shared
        .iter()
        .filter(|c| !key.contains(c))
        .cloned()
        .collect();
    let layout = |columns: &[String]| Layout {
        key: if matching {
            positions(&key, columns)
        } else {
            Vec::new()
        },
        compared: if matching {
            positions(&compared, columns)
        } else {
            Vec::new()
        },
    };
    // The smaller side is kept; a missing side is empty.
    let base_size = base.as_ref().map_or(0, |t| t.size());
    let head_size = head.as_ref().map_or(0, |t| t.size());
    let keep_base = base_size <= head_size;
    let mut state = Pass::new(options, &compared, matching);
    let mut stats_base = Vec::new();
    let mut stats_head = Vec::new();
    let mut rows = Sides::default();
    let (first, second) = if keep_base {
        ((base, Role::Base), (head, Role::Head))
    } else {
        ((head, Role::Head), (base, Role::Base))
    };
    let mut kept = Kept {
        role: first.1,
        slots: HashMap::default(),
        cells: Vec::new(),
        width: compared.len(),
        keys: Vec::new(),
        key_offsets: vec![0],
        matched: Vec::new(),
    };
    for (table, role) in [first, second] {
        let Some(table) = table else { continue };
        let layout = layout(table.header());
        let mut stats = vec![ColumnStats::default(); table.header().len()];
        let mut count = 0u64;
        while let Some(batch) = table.next_batch()? {
            count += batch.rows as u64;
            if role == kept.role {
                state.keep(&batch, &layout, &mut stats, &mut kept);
            } else {
                state.probe(&batch, &layout, &mut stats, &mut kept);
            }
        }
        match role {
            Role::Base => {
                rows.base = count;
                stats_base = stats;
            }
            Role::Head => {
                rows.head = count;
                stats_head = stats;
            }
        }
    }
    let row_diff = matching.then(|| state.finish(&kept, key.clone(), whole_rows, &compared));
    let summaries = |columns: &[String], stats: &[ColumnStats]| -> Vec<(String, Summary)> {
        columns
            .iter()
            .zip(stats)
            .map(|(c, s)| (c.clone(), s.summary()))
            .collect()
    };
    let base_summaries = summaries(&columns_base, &stats_base);
    let head_summaries = summaries(&columns_head, &stats_head);
    let schema = schema_diff(
        &columns_base,
        &columns_head,
        &base_summaries,
        &head_summaries,
    );
    let mut columns: Vec<ColumnDiff> = columns_head
        .iter()
        .map(|name| ColumnDiff {
            name: name.clone(),
            base: find(&base_summaries, name),
            head: find(&head_summaries, name),
        })
        .collect();
    columns.extend(
        columns_base
            .iter()
            .filter(|c| !columns_head.contains(c))
            .map(|name| ColumnDiff {
                name: name.clone(),
                base: find(&base_summaries, name),
                head: None,
            }),
    );
    Ok(DatasetDiff {
        rows,
        columns_base,
        columns_head,
        schema,
        row_diff,
        columns,
        note,
    })
}

fn find(summaries: &[(String, Summary)], name: &str) -> Option<Summary> {
    summaries
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.clone())
}

/// The position in `columns` of each of `names` (each is there).
fn positions(names: &[String], columns: &[String]) -> Vec<usize> {
    names
        .iter()
        .filter_map(|n| columns.iter().position(|c| c == n))
        .collect()
}

fn schema_diff(
    base: &[String],
    head: &[String],
    base_stats: &[(String, Summary)],
    head_stats: &[(String, Summary)],
) -> SchemaDiff {
    let kind =
        |stats: &[(String, Summary)], name: &str| find(stats, name).map_or(Kind::Empty, |s| s.kind);
    let added = head
        .iter()
        .filter(|c| !base.contains(c))
        .map(|c| (c.clone(), kind(head_stats, c)))
        .collect();
    let removed = base
        .iter()
        .filter(|c| !head.contains(c))
        .map(|c| (c.clone(), kind(base_stats, c)))
        .collect();
    let shared_in_base: Vec<&String> = base.iter().filter(|c| head.contains(c)).collect();
    let shared_in_head: Vec<&String> = head.iter().filter(|c| base.contains(c)).collect();
    // An empty side (no values) says nothing about the type.
    let type_changes = shared_in_head
        .iter()
        .filter_map(|c| {
            let (b, h) = (kind(base_stats, c), kind(head_stats, c));
            (b != h && b != Kind::Empty && h != Kind::Empty).then(|| ((*c).clone(), b, h))
        })
        .collect();
    SchemaDiff {
        added,
        removed,
        type_changes,
        reordered: shared_in_base != shared_in_head,
    }
}

/// The running comparison.
struct Pass {
    samples: usize,
    matching: bool,
    added_keys: HashSet<u64, Build>,
    changed_per_column: Vec<u64>,
    compared: Vec<String>,
    diff: RowDiff,
    key_text: Vec<u8>,
    cell_hashes: Vec<u32>,
}

impl Pass {
    fn new(options: &Options, compared: &[String], matching: bool) -> Pass {
        Pass {
            samples: options.samples,
            matching,
            added_keys: HashSet::default(),
            changed_per_column: vec![0; compared.len()],
            compared: compared.to_vec(),
            diff: RowDiff::default(),
            key_text: Vec::new(),
            cell_hashes: Vec::new(),
        }
    }

    /// Statistics for every column of row `i`, and the row's key and
    /// compared cell hashes; `None` when a key cell is null.
    fn row(
        &mut self,
        batch: &TextBatch,
        i: usize,
        layout: &Layout,
        stats: &mut [ColumnStats],
    ) -> Option<u64> {
        let mut hashes = Vec::with_capacity(batch.columns.len());
        for (column, stat) in batch.columns.iter().zip(stats.iter_mut()) {
            let cell = column.get(i);
            let hash = hash64(cell.unwrap_or_default());
            stat.add(cell, hash);
            hashes.push((cell.is_some(), hash));
        }
        if !self.matching {
            return None;
        }
        self.key_text.clear();
        let mut key_hash = 0u64;
        for (n, &c) in layout.key.iter().enumerate() {
            let cell = batch.columns[c].get(i)?;
            if n > 0 {
                self.key_text.extend_from_slice(b", ");
            }
            self.key_text.extend_from_slice(cell);
            key_hash = mix(key_hash ^ hashes[c].1).wrapping_add(n as u64);
        }
        self.cell_hashes.clear();
        for &c in &layout.compared {
            let (present, hash) = hashes[c];
            // A null differs from every value, the empty text included.
            let h = if present { (hash >> 32) as u32 | 1 } else { 0 };
            self.cell_hashes.push(h);
        }
        Some(key_hash)
    }

    fn keep(
        &mut self,
        batch: &TextBatch,
        layout: &Layout,
        stats: &mut [ColumnStats],
        kept: &mut Kept,
    ) {
        for i in 0..batch.rows {
            let Some(key) = self.row(batch, i, layout, stats) else {
                self.count_null_key(kept.role);
                continue;
            };
            if kept.slots.contains_key(&key) {
                self.count_duplicate(kept.role);
                continue;
            }
            let slot = kept.matched.len() as u32;
            kept.slots.insert(key, slot);
            kept.cells.extend_from_slice(&self.cell_hashes);
            kept.keys.extend_from_slice(&self.key_text);
            kept.key_offsets.push(kept.keys.len() as u32);
            kept.matched.push(false);
        }
    }

    fn probe(
        &mut self,
        batch: &TextBatch,
        layout: &Layout,
        stats: &mut [ColumnStats],
        kept: &mut Kept,
    ) {
        let role = if kept.role == Role::Base {
            Role::Head
        } else {
            Role::Base
        };
        for i in 0..batch.rows {
            let Some(key) = self.row(batch, i, layout, stats) else {
                self.count_null_key(role);
                continue;
            };
            let Some(&slot) = kept.slots.get(&key) else {
                if self.added_keys.insert(key) {
                    // Only on this side: added if this is head.
                    let text = String::from_utf8_lossy(&self.key_text).into_owned();
                    if role == Role::Head {
                        self.diff.added += 1;
                        push_sample(&mut self.diff.added_samples, text, self.samples);
                    } else {
                        self.diff.removed += 1;
                        push_sample(&mut self.diff.removed_samples, text, self.samples);
                    }
                } else {
                    self.count_duplicate(role);
                }
                continue;
            };
            let slot = slot as usize;
            if kept.matched[slot] {
                self.count_duplicate(role);
                continue;
            }
            kept.matched[slot] = true;
            let theirs = &kept.cells[slot * kept.width..(slot + 1) * kept.width];
            let mut changed = Vec::new();
            for (c, (mine, other)) in self.cell_hashes.iter().zip(theirs).enumerate() {
                if mine != other {
                    self.changed_per_column[c] += 1;
                    changed.push(c);
                }
            }
            if changed.is_empty() {
                self.diff.unchanged += 1;
            } else {
                self.diff.changed += 1;
                if self.diff.changed_samples.len() < self.samples {
                    self.diff.changed_samples.push(ChangedRow {
                        key: String::from_utf8_lossy(&self.key_text).into_owned(),
                        columns: changed.iter().map(|&c| self.compared[c].clone()).collect(),
                    });
                }
            }
        }
    }

    fn count_null_key(&mut self, role: Role) {
        match role {
            Role::Base => self.diff.null_keys.base += 1,
            Role::Head => self.diff.null_keys.head += 1,
        }
    }

    fn count_duplicate(&mut self, role: Role) {
        match role {
            Role::Base => self.diff.duplicate_keys.base += 1,
            Role::Head => self.diff.duplicate_keys.head += 1,
        }
    }

    /// Kept keys nothing matched are on the kept side only.
    fn finish(
        mut self,
        kept: &Kept,
        key: Vec<String>,
        whole_rows: bool,
        compared: &[String],
    ) -> RowDiff {
        let mut only_kept = 0u64;
        let mut samples = Vec::new();
        for (slot, matched) in kept.matched.iter().enumerate() {
            if *matched {
                continue;
            }
            only_kept += 1;
            if samples.len() < self.samples {
                let (start, end) = (
                    kept.key_offsets[slot] as usize,
                    kept.key_offsets[slot + 1] as usize,
                );
                samples.push(String::from_utf8_lossy(&kept.keys[start..end]).into_owned());
            }
        }
        if kept.role == Role::Base {
            self.diff.removed += only_kept;
            self.diff.removed_samples = samples;
        } else {
            self.diff.added += only_kept;
            self.diff.added_samples = samples;
        }
        let mut changed_columns: Vec<(String, u64)> = compared
            .iter()
            .cloned()
            .zip(self.changed_per_column.iter().copied())
            .filter(|(_, n)| *n > 0)
            .collect();
        changed_columns.sort_by_key(|c| std::cmp::Reverse(c.1));
        RowDiff {
            key,
            whole_rows,
            changed_columns,
            ..self.diff
        }
    }
}

fn push_sample(samples: &mut Vec<String>, key: String, limit: usize) {
    if samples.len() < limit {
        samples.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::MemTable;

    const BASE: &str = "
        id,amount,status,legacy
        1,10,new,x
        2,20,paid,x
        3,30,paid,x
        4,40,new,x
        5,50,new,x
    ";

    const HEAD: &str = "
        id,status,amount,discount
        1,new,10,0.5
        2,shipped,25,0.5
        3,paid,30.5,
        5,new,50,0.5
        6,new,60,0.5
        7,new,70,0.5
        7,new,70,0.5
        ,new,80,
    ";

    /// Compares two CSV texts; `MemTable`'s size is its row count, so the
    /// side with fewer rows is kept.
    fn diff(base: Option<&str>, head: Option<&str>, key: &[&str]) -> DatasetDiff {
        let mut base = base.map(MemTable::csv);
        let mut head = head.map(MemTable::csv);
        compare(
            base.as_mut().map(|t| t as &mut dyn Table),
            head.as_mut().map(|t| t as &mut dyn Table),
            &Options {
                key: key.iter().map(ToString::to_string).collect(),
                samples: 3,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn check_rows(d: &DatasetDiff) {
        let r = d
            .row_diff
            .as_ref()
            .unwrap_or_else(|| panic!("no row diff: {:?}", d.note));
        assert_eq!(d.rows, Sides { base: 5, head: 8 });
        assert_eq!((r.added, r.removed, r.changed, r.unchanged), (2, 1, 2, 2));
        assert_eq!(r.duplicate_keys, Sides { base: 0, head: 1 });
        assert_eq!(r.null_keys, Sides { base: 0, head: 1 });
        assert_eq!(
            r.changed_columns,
            vec![("amount".to_string(), 2), ("status".to_string(), 1)]
        );
        assert_eq!(r.added_samples, vec!["6".to_string(), "7".into()]);
        assert_eq!(r.removed_samples, vec!["4".to_string()]);
        assert_eq!(
            r.changed_samples,
            vec![
                ChangedRow {
                    key: "2".into(),
                    columns: vec!["amount".into(), "status".into()],
                },
                ChangedRow {
                    key: "3".into(),
                    columns: vec!["amount".into()],
                },
            ]
        );
    }

    #[test]
    fn rows_are_matched_by_key_whichever_side_is_kept() {
        check_rows(&diff(Some(BASE), Some(HEAD), &["id"]));
        // Base reports more bytes: head is kept and base streams past it.
        let base = MemTable::csv(BASE);
        let mut head = MemTable::csv(HEAD);
        let d = compare(
            Some(&mut Padded(base, 1000) as &mut dyn Table),
            Some(&mut head as &mut dyn Table),
            &Options {
                key: vec!["id".into()],
                samples: 3,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        check_rows(&d);
    }

    /// A table that reports a larger size than its rows.
    struct Padded(MemTable, u64);

    impl Table for Padded {
        fn header(&self) -> &[String] {
            self.0.header()
        }
        fn size(&self) -> u64 {
            self.1
        }
        fn next_batch(&mut self) -> Result<Option<TextBatch>, String> {
            self.0.next_batch()
        }
    }

    #[test]
    fn schema_changes_are_named_with_types() {
        let d = diff(Some(BASE), Some(HEAD), &["id"]);
        assert_eq!(d.schema.added, vec![("discount".to_string(), Kind::Float)]);
        assert_eq!(d.schema.removed, vec![("legacy".to_string(), Kind::Text)]);
        assert_eq!(
            d.schema.type_changes,
            vec![("amount".to_string(), Kind::Int, Kind::Float)]
        );
        assert!(d.schema.reordered);
        let amount = d.columns.iter().find(|c| c.name == "amount");
        let (base, head) = (
            amount.and_then(|c| c.base.clone()),
            amount.and_then(|c| c.head.clone()),
        );
        assert_eq!(base.and_then(|s| s.mean), Some(30.0));
        assert_eq!(head.as_ref().and_then(|s| s.max.clone()), Some("80".into()));
        assert_eq!(head.map(|s| s.distinct), Some(7));
        let legacy = d.columns.iter().find(|c| c.name == "legacy");
        assert!(legacy.is_some_and(|c| c.head.is_none() && c.base.is_some()));
    }

    #[test]
    fn without_a_key_whole_rows_are_matched() {
        let base = "a,b\n1,x\n2,y\n2,y";
        let head = "a,b,c\n2,y,1\n3,z,1";
        let d = diff(Some(base), Some(head), &[]);
        let r = d.row_diff.unwrap_or_default();
        assert!(r.whole_rows);
        assert_eq!(r.key, vec!["a".to_string(), "b".into()]);
        assert_eq!((r.added, r.removed, r.changed, r.unchanged), (1, 1, 0, 1));
        assert_eq!(r.duplicate_keys.base, 1);
        assert_eq!(r.added_samples, vec!["3, z".to_string()]);
    }

    #[test]
    fn a_missing_key_column_skips_the_row_match_but_not_the_rest() {
        let d = diff(Some("id,a\n1,2"), Some("key,a\n1,2"), &["id"]);
        assert!(d.row_diff.is_none());
        assert_eq!(
            d.note.as_deref(),
            Some("the key column `id` is not in head, so rows are not matched")
        );
        assert_eq!(d.rows, Sides { base: 1, head: 1 });
    }

    #[test]
    fn a_new_dataset_is_all_added() {
        let d = diff(None, Some(HEAD), &["id"]);
        let r = d.row_diff.unwrap_or_default();
        assert_eq!(d.rows, Sides { base: 0, head: 8 });
        assert_eq!(r.added, 6);
        assert_eq!(d.schema.added.len(), 4);
        let d = diff(Some(BASE), None, &["id"]);
        assert_eq!(d.row_diff.map(|r| r.removed), Some(5));
    }

    #[test]
    fn a_null_cell_differs_from_a_value() {
        let d = diff(Some("id,a\n1,\n2,x"), Some("id,a\n1,x\n2,x"), &["id"]);
        assert_eq!(d.row_diff.map(|r| r.changed), Some(1));
    }
}
