//! Schedules in a real sled store: syncing from workflows, claiming ticks
//! through the wake index, recording a tick's run exactly once, and
//! surviving a reopen in the middle.

use andon_core::effect::{CommitState, Effect, PlannedEffect};
use andon_core::run::{RunRecord, Status};
use andon_core::schedule::{
    Origin, Policy, Report, ScheduleEntry, ScheduleRecord, TickJob, TickResult, schedule_id,
};
use andon_core::{Event, EventKind};
use andon_store::{
    InboxStore, NewDelivery, OutboxStore, RunStore, ScheduleStore, Store, SyncReport,
};

const REPO: &str = "acme/etl";

fn ms(text: &str) -> u64 {
    let at = chrono_like(text);
    u64::try_from(at).unwrap()
}

/// Milliseconds of a `YYYY-MM-DDTHH:MM:SSZ` instant, without a date crate:
/// days from the civil date (Howard Hinnant's algorithm).
fn chrono_like(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000
}

fn entry(file: &str, index: usize, cron: &str) -> ScheduleEntry {
    ScheduleEntry {
        id: schedule_id(REPO, file, index),
        repository: REPO.into(),
        workflow: file.trim_end_matches(".yml").into(),
        file: file.into(),
        index,
        cron: cron.into(),
        timezone: "UTC".into(),
        with_seconds: false,
        policy: Policy::DEFAULT,
        report: Report::default(),
        origin: Origin::GitHub {
            installation: Some(1),
            clone_url: None,
            default_branch: "main".into(),
        },
    }
}

fn run_for(tick: &str) -> RunRecord {
    let mut event = Event::new(EventKind::Schedule, REPO, "a".repeat(40));
    event.branch = Some(tick.into());
    RunRecord {
        id: 0,
        workflow: "nightly".into(),
        event,
        started_at_ms: ms(tick),
        duration_us: 10,
        status: Status::Success,
        steps: Vec::new(),
        delivery: None,
    }
}

fn status_effect(key: &str) -> PlannedEffect {
    PlannedEffect {
        key: key.into(),
        repository: REPO.into(),
        installation: Some(1),
        effect: Effect::CommitStatus {
            sha: "a".repeat(40),
            context: "andon / nightly".into(),
            state: CommitState::Success,
            description: "passed".into(),
        },
    }
}

/// Claim what is due at `now`, as the scheduler does.
fn claim(store: &Store, now: u64) -> Vec<TickJob> {
    let (due, _) = store.due_schedules(now, 100).unwrap();
    store
        .update_schedules(&due, |record| record.claim(now))
        .unwrap()
        .into_iter()
        .filter_map(|(_, claim)| claim.dispatch)
        .collect()
}

fn record_tick(store: &Store, job: &TickJob, now: u64) -> Option<u64> {
    let mut run = run_for("2026-01-01T03:00:00Z");
    store
        .record_scheduled_run(
            &job.id,
            &mut run,
            &[("etl".into(), "rows".into(), b"5".to_vec())],
            &[status_effect(&format!(
                "s/{}/{}/status",
                job.tick_ms, job.attempt
            ))],
            now,
            |record: &mut ScheduleRecord, run_id| {
                let result = TickResult::Ran {
                    run: run_id,
                    status: Status::Success,
                };
                record
                    .finish(job.tick_ms, job.attempt, &result, now)
                    .map(|_| ())
            },
            // As `andon serve` queues a finished run for the workflows
            // that watch andon's runs.
            |run: &RunRecord| {
                Some(NewDelivery {
                    id: format!("andon-run-{}", run.id),
                    event: "andon_workflow_run".into(),
                    received_at_ms: now,
                    body: run.id.to_string().into_bytes(),
                })
            },
        )
        .unwrap()
}

#[test]
fn syncing_adds_keeps_redefines_and_removes() {
    let store = Store::open_temporary().unwrap();
    assert_eq!(store.schedule_repository(REPO).unwrap(), None);
    let t0 = ms("2026-01-01T00:00:00Z");
    let daily = entry("nightly.yml", 0, "0 3 * * *");
    let hourly = entry("hourly.yml", 0, "0 * * * *");
    let report = store
        .sync_schedules(REPO, "rev1", &[daily.clone(), hourly.clone()], t0)
        .unwrap();
    assert_eq!(
        report,
        SyncReport {
            added: 2,
            ..SyncReport::default()
        }
    );
    let synced = store.schedule_repository(REPO).unwrap().unwrap();
    assert_eq!((synced.rev.as_str(), synced.ids.len()), ("rev1", 2));
    let (due, next) = store.due_schedules(t0, 10).unwrap();
    assert!(due.is_empty());
    assert_eq!(next, Some(ms("2026-01-01T01:00:00Z")));

    // The hourly one runs at 01:00.
    let jobs = claim(&store, ms("2026-01-01T01:00:00Z"));
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, hourly.id);

    // A new commit: the hourly one changes its expression, the daily one
    // goes away, a weekly one comes.
    let t1 = ms("2026-01-01T01:30:00Z");
    let mut changed = hourly.clone();
    changed.cron = "30 * * * *".into();
    let weekly = entry("weekly.yml", 0, "0 0 * * 0");
    let report = store
        .sync_schedules(REPO, "rev2", &[changed.clone(), weekly.clone()], t1)
        .unwrap();
    assert_eq!(
        report,
        SyncReport {
            added: 1,
            changed: 1,
            removed: 1,
            unchanged: 0
        }
    );
    assert_eq!(store.schedule(&daily.id).unwrap(), None);
    let kept = store.schedule(&changed.id).unwrap().unwrap();
    assert_eq!(kept.entry.cron, "30 * * * *");
    // Its running tick and its last tick stay; ticks count from t1.
    assert_eq!(kept.state.pending.len(), 1);
    assert_eq!(kept.state.since_ms, t1);
    assert_eq!(kept.state.next_due_ms, Some(ms("2026-01-01T02:30:00Z")));
    // Unchanged on the next sync: nothing written.
    let report = store
        .sync_schedules(REPO, "rev3", &[changed, weekly], t1 + 5)
        .unwrap();
    assert_eq!(report.unchanged, 2);
    // The wake index holds exactly one entry per schedule, moved with it.
    let all = store.schedules().unwrap();
    assert_eq!(all.len(), 2);
    let (mut due, _) = store.due_schedules(u64::MAX, 100).unwrap();
    due.sort();
    assert_eq!(due, [changed_id(), weekly_id()]);
    // Another repository's entries are refused.
    let mut stranger = entry("x.yml", 0, "@daily");
    stranger.repository = "other/repo".into();
    assert!(store.sync_schedules(REPO, "rev4", &[stranger], t1).is_err());
}

fn changed_id() -> String {
    schedule_id(REPO, "hourly.yml", 0)
}

fn weekly_id() -> String {
    schedule_id(REPO, "weekly.yml", 0)
}

#[test]
fn a_scheduled_run_is_recorded_with_its_tick_exactly_once() {
    let store = Store::open_temporary().unwrap();
    let daily = entry("nightly.yml", 0, "0 3 * * *");
    store
        .sync_schedules(
            REPO,
            "rev",
            std::slice::from_ref(&daily),
            ms("2026-01-01T00:00:00Z"),
        )
        .unwrap();
    let tick = ms("2026-01-01T03:00:00Z");
    let jobs = claim(&store, tick);
    assert_eq!(jobs.len(), 1);
    let now = tick + 60_000;
    let run_id = record_tick(&store, &jobs[0], now).expect("recorded");
    let run = store.run(run_id).unwrap().unwrap();
    assert_eq!(run.event.kind, EventKind::Schedule);
    assert_eq!(store.outbox_for_run(run_id).unwrap().len(), 1);
    let record = store.schedule(&daily.id).unwrap().unwrap();
    assert!(record.state.pending.is_empty());
    assert_eq!(record.state.last_run.unwrap().run, Some(run_id));
    // The follow-up was queued with the run, naming it.
    let queued = store.pending_deliveries(10).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].id, format!("andon-run-{run_id}"));
    assert_eq!(
        store.delivery_body(queued[0].seq).unwrap().unwrap(),
        run_id.to_string().into_bytes()
    );
    // The same attempt again (a duplicate job): nothing is written, no
    // follow-up either.
    assert_eq!(record_tick(&store, &jobs[0], now + 1), None);
    assert_eq!(store.inbox_depth().unwrap(), 1);
    assert_eq!(
        store.runs(&andon_store::RunQuery::default()).unwrap().len(),
        1
    );
    assert_eq!(store.outbox_depth().unwrap(), 1);
    // Nothing is due again until tomorrow.
    assert!(claim(&store, now).is_empty());
    let (_, next) = store.due_schedules(now, 10).unwrap();
    assert_eq!(next, Some(ms("2026-01-02T03:00:00Z")));
}

#[test]
fn a_claimed_tick_survives_a_crash_and_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let daily = entry("nightly.yml", 0, "0 3 * * *");
    let tick = ms("2026-01-01T03:00:00Z");
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .sync_schedules(
                REPO,
                "rev",
                std::slice::from_ref(&daily),
                ms("2026-01-01T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(claim(&store, tick).len(), 1);
        // The process dies while the run goes on: no run is recorded.
    }
    let store = Store::open(dir.path()).unwrap();
    let record = store.schedule(&daily.id).unwrap().unwrap();
    assert!(record.state.pending[0].running, "the claim was durable");
    let restart = tick + 20_000;
    let ids = vec![daily.id.clone()];
    let recovered = store
        .update_schedules(&ids, |record| record.recover(restart))
        .unwrap();
    let job = recovered[0].1.dispatch.clone().expect("run again");
    assert_eq!((job.tick_ms, job.attempt), (tick, 1));
    let run_id = record_tick(&store, &job, restart + 1000).expect("recorded");
    drop(store);
    // After the run was recorded, a restart finds nothing to run again.
    let store = Store::open(dir.path()).unwrap();
    let recovered = store
        .update_schedules(&ids, |record| record.recover(restart + 5_000))
        .unwrap();
    assert_eq!(recovered[0].1.dispatch, None);
    let runs = store.runs(&andon_store::RunQuery::default()).unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [run_id]);
}

#[test]
fn schedules_travel_in_exports() {
    let store = Store::open_temporary().unwrap();
    store
        .sync_schedules(
            REPO,
            "rev",
            &[entry("nightly.yml", 0, "@daily")],
            ms("2026-01-01T00:00:00Z"),
        )
        .unwrap();
    let mut out = Vec::new();
    store.export(&mut out).unwrap();
    let copy = Store::open_temporary().unwrap();
    copy.import(out.as_slice()).unwrap();
    assert_eq!(copy.schedules().unwrap(), store.schedules().unwrap());
    assert_eq!(
        copy.due_schedules(u64::MAX, 10).unwrap(),
        store.due_schedules(u64::MAX, 10).unwrap()
    );
    assert!(copy.schedule_repository(REPO).unwrap().is_some());
}
