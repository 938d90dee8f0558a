//! Cron maths (fields, zones, DST), and the scheduler's decisions on a
//! record: missed ticks, overlap, changed expressions, retries, recovery.

use super::*;

/// Milliseconds since the epoch of an RFC 3339 instant.
fn ms(text: &str) -> u64 {
    let at = chrono::DateTime::parse_from_rfc3339(text).expect("a valid instant");
    u64::try_from(at.timestamp_millis()).expect("after 1970")
}

/// The next `n` ticks after `from`, in the expression's own zone.
fn next_ticks(cron: &Cron, from: &str, n: usize) -> Vec<String> {
    let mut at = ms(from);
    let mut out = Vec::new();
    for _ in 0..n {
        at = cron.next_after(at).expect("a next tick");
        out.push(format_instant(at, cron.timezone()));
    }
    out
}

fn cron(expr: &str, zone: &str) -> Cron {
    Cron::parse(expr, Some(zone)).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn five_fields_in_utc() {
    let c = cron("*/20 9-10 * * *", "UTC");
    assert_eq!(
        next_ticks(&c, "2026-01-05T09:30:00Z", 4),
        [
            "2026-01-05T09:40:00Z",
            "2026-01-05T10:00:00Z",
            "2026-01-05T10:20:00Z",
            "2026-01-05T10:40:00Z"
        ]
    );
    // Strictly after: a tick at `from` itself is not next.
    assert_eq!(
        next_ticks(&c, "2026-01-05T09:40:00Z", 1),
        ["2026-01-05T10:00:00Z"]
    );
}

#[test]
fn shorthands_stand_for_five_fields() {
    for (short, long) in [
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ] {
        assert_eq!(
            next_ticks(&cron(short, "UTC"), "2026-02-11T10:30:00Z", 3),
            next_ticks(&cron(long, "UTC"), "2026-02-11T10:30:00Z", 3),
            "{short}"
        );
    }
}

#[test]
fn weekdays_count_from_sunday_zero_and_seven_and_take_names() {
    // 2026-01-04 is a Sunday.
    let sundays = ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"];
    for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sunday"] {
        assert_eq!(
            next_ticks(&cron(expr, "UTC"), "2026-01-01T00:00:00Z", 2),
            sundays,
            "{expr}"
        );
    }
    // Friday to Sunday, through 7.
    assert_eq!(
        next_ticks(&cron("0 0 * * 5-7", "UTC"), "2026-01-01T00:00:00Z", 4),
        [
            "2026-01-02T00:00:00Z",
            "2026-01-03T00:00:00Z",
            "2026-01-04T00:00:00Z",
            "2026-01-09T00:00:00Z"
        ]
    );
    assert_eq!(
        next_ticks(&cron("0 0 * * mon-fri/2", "UTC"), "2026-01-04T00:00:00Z", 3),
        [
            "2026-01-05T00:00:00Z",
            "2026-01-07T00:00:00Z",
            "2026-01-09T00:00:00Z"
        ]
    );
}

#[test]
fn restricted_day_fields_match_either_day() {
    // The 13th of the month or any Friday (crontab(5)).
    let c = cron("0 0 13 * 5", "UTC");
    assert_eq!(
        next_ticks(&c, "2026-02-01T00:00:00Z", 4),
        [
            "2026-02-06T00:00:00Z",
            "2026-02-13T00:00:00Z",
            "2026-02-20T00:00:00Z",
            "2026-02-27T00:00:00Z"
        ]
    );
    assert_eq!(
        next_ticks(&c, "2026-03-07T00:00:00Z", 2),
        ["2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"]
    );
    // A day field starting with `*` is not a restriction: both must match.
    assert_eq!(
        next_ticks(&cron("0 0 */2 * 5", "UTC"), "2026-02-01T00:00:00Z", 2),
        ["2026-02-13T00:00:00Z", "2026-02-27T00:00:00Z"]
    );
}

#[test]
fn bad_expressions_name_the_field() {
    let error = |expr: &str| Cron::parse(expr, None).expect_err(expr).to_string();
    let minute = error("61 * * * *");
    assert!(
        minute.starts_with("minute `61` in cron expression `61 * * * *` is invalid: "),
        "{minute}"
    );
    assert!(minute.ends_with("61 is not in 0-59"), "{minute}");
    assert_eq!(
        error("0 24 * * *"),
        "hour `24` in cron expression `0 24 * * *` is invalid: 24 is not in 0-23"
    );
    // What the cron crate says when it is not a range: its last line.
    let letters = error("x * * * *");
    assert!(
        letters.starts_with("minute `x` in cron expression"),
        "{letters}"
    );
    assert!(!letters.contains('\n'), "{letters}");
    assert!(error("0 0 32 * *").starts_with("day of month `32`"));
    assert!(error("0 0 * 13 *").starts_with("month `13`"));
    assert_eq!(
        error("0 0 * * 8"),
        "day of week `8` in cron expression `0 0 * * 8` is invalid: 8 is not a day of the week (0-7)"
    );
    assert_eq!(
        error("0 0 * * fri-mon"),
        "day of week `fri-mon` in cron expression `0 0 * * fri-mon` is invalid: the range `fri-mon` runs backwards"
    );
    assert_eq!(
        error("@reboot"),
        "cron expression `@reboot` has 1 fields, expected 5"
    );
    assert_eq!(
        error("0 0 3 * * *"),
        "cron expression `0 0 3 * * *` has 6 fields, expected 5"
    );
    let hint = Cron::parse("* *", None).expect_err("two fields").hint();
    assert!(hint.contains("minute hour day-of-month"), "{hint}");
}

#[test]
fn time_zones_are_iana_names_with_suggestions() {
    assert!(parse_timezone("Europe/Paris").is_ok());
    assert!(parse_timezone("UTC").is_ok());
    let suggestion = |name: &str| match parse_timezone(name) {
        Err(CronError::Timezone { suggestion, .. }) => suggestion,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(suggestion("europe/paris"), Some("Europe/Paris"));
    assert_eq!(suggestion("Europe/Pariss"), Some("Europe/Paris"));
    assert_eq!(suggestion("Mars/Olympus_Mons_Base"), None);
    let error = parse_timezone("Europe/Pariss").expect_err("unknown");
    assert_eq!(error.to_string(), "unknown time zone `Europe/Pariss`");
    assert_eq!(error.hint(), "did you mean `Europe/Paris`?");
}

#[test]
fn paris_spring_forward_fires_skipped_times_when_the_clocks_jump() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST.
    let c = cron("30 2 * * *", "Europe/Paris");
    assert_eq!(
        next_ticks(&c, "2026-03-27T12:00:00+01:00", 4),
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00"
        ]
    );
    // Every 15 minutes: the hour that does not exist fires once, at 03:00.
    assert_eq!(
        next_ticks(
            &cron("*/15 * * * *", "Europe/Paris"),
            "2026-03-29T01:40:00+01:00",
            4
        ),
        [
            "2026-03-29T01:45:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:15:00+02:00",
            "2026-03-29T03:30:00+02:00"
        ]
    );
}

#[test]
fn paris_fall_back_fires_a_repeated_time_once() {
    // 2026-10-25: 03:00 CEST goes back to 02:00 CET.
    let c = cron("30 2 * * *", "Europe/Paris");
    assert_eq!(
        next_ticks(&c, "2026-10-24T12:00:00+02:00", 3),
        [
            "2026-10-25T02:30:00+02:00",
            "2026-10-26T02:30:00+01:00",
            "2026-10-27T02:30:00+01:00"
        ]
    );
    // From inside the repeated hour, its second 02:30 is not a tick.
    assert_eq!(
        next_ticks(&c, "2026-10-25T02:10:00+01:00", 1),
        ["2026-10-26T02:30:00+01:00"]
    );
    // Hourly: 02:00 fires at its first occurrence only.
    assert_eq!(
        next_ticks(
            &cron("0 * * * *", "Europe/Paris"),
            "2026-10-25T00:30:00+02:00",
            4
        ),
        [
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T03:00:00+01:00",
            "2026-10-25T04:00:00+01:00"
        ]
    );
}

#[test]
fn new_york_transitions() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    let c = cron("*/30 * * * *", "America/New_York");
    assert_eq!(
        next_ticks(&c, "2026-03-08T01:00:00-05:00", 4),
        [
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-08T04:00:00-04:00"
        ]
    );
    assert_eq!(
        next_ticks(
            &cron("0 2 * * *", "America/New_York"),
            "2026-03-07T12:00:00-05:00",
            2
        ),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"]
    );
    // 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:xx repeats.
    assert_eq!(
        next_ticks(&c, "2026-11-01T00:10:00-04:00", 5),
        [
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T02:30:00-05:00"
        ]
    );
    // Asked from the second 01:15, the next tick is still 02:00 EST.
    assert_eq!(
        next_ticks(&c, "2026-11-01T01:15:00-05:00", 1),
        ["2026-11-01T02:00:00-05:00"]
    );
}

#[test]
fn due_ticks_agree_with_next_ticks_across_transitions() {
    for (expr, zone, from, to) in [
        (
            "*/30 * * * *",
            "America/New_York",
            "2026-10-31T20:00:00-04:00",
            "2026-11-01T06:00:00-05:00",
        ),
        (
            "*/30 * * * *",
            "America/New_York",
            "2026-03-07T20:00:00-05:00",
            "2026-03-08T06:00:00-04:00",
        ),
        (
            "15 1-3 * * *",
            "Europe/Paris",
            "2026-10-24T00:00:00+02:00",
            "2026-10-26T00:00:00+01:00",
        ),
        (
            "0 2 * * *",
            "Europe/Paris",
            "2026-03-27T00:00:00+01:00",
            "2026-03-31T00:00:00+02:00",
        ),
    ] {
        let c = cron(expr, zone);
        let (from, to) = (ms(from), ms(to));
        let mut forward = Vec::new();
        let mut at = from;
        while let Some(next) = c.next_after(at).filter(|n| *n <= to) {
            forward.push(next);
            at = next;
        }
        let all = c.due(from, to, usize::MAX);
        assert_eq!(all.ticks, forward, "{expr} in {zone}");
        assert_eq!(all.older, 0);
        let newest = c.due(from, to, 2);
        assert_eq!(
            newest.ticks,
            forward[forward.len() - 2..],
            "{expr} in {zone}"
        );
        assert_eq!(
            newest.older,
            u64::try_from(forward.len() - 2).expect("small")
        );
    }
}

#[test]
fn due_ticks_are_in_the_half_open_interval() {
    let c = cron("0 * * * *", "UTC");
    let due = c.due(ms("2026-01-01T10:00:00Z"), ms("2026-01-01T12:00:00Z"), 10);
    assert_eq!(
        due.ticks,
        [ms("2026-01-01T11:00:00Z"), ms("2026-01-01T12:00:00Z")]
    );
    assert_eq!(
        c.due(ms("2026-01-01T12:00:00Z"), ms("2026-01-01T12:00:00Z"), 1),
        Due::default()
    );
}

#[test]
fn seconds_expressions_for_the_benchmarks() {
    let c = Cron::parse_with_seconds("*/5 * * * * *", None).expect("valid");
    assert_eq!(
        next_ticks(&c, "2026-01-01T00:00:01Z", 2),
        ["2026-01-01T00:00:05Z", "2026-01-01T00:00:10Z"]
    );
    assert!(Cron::parse_with_seconds("* * * * *", None).is_err());
}

#[test]
fn impossible_dates_have_no_next_tick() {
    assert_eq!(
        cron("0 0 30 2 *", "UTC").next_after(ms("2026-01-01T00:00:00Z")),
        None
    );
}

// --- decisions on a record ------------------------------------------------

const DAILY: &str = "0 3 * * *";

fn entry(expr: &str, policy: Policy) -> ScheduleEntry {
    ScheduleEntry {
        id: schedule_id("acme/etl", ".andon/workflows/nightly.yml", 0),
        repository: "acme/etl".into(),
        workflow: "nightly".into(),
        file: ".andon/workflows/nightly.yml".into(),
        index: 0,
        cron: expr.into(),
        timezone: "UTC".into(),
        with_seconds: false,
        policy,
        report: Report::default(),
        origin: Origin::Local {
            path: "/srv/etl".into(),
        },
    }
}

fn record(expr: &str, policy: Policy, registered: &str) -> ScheduleRecord {
    ScheduleRecord::new(entry(expr, policy), ms(registered))
}

fn job(tick: &str, attempt: u32) -> Option<TickJob> {
    Some(TickJob {
        id: schedule_id("acme/etl", ".andon/workflows/nightly.yml", 0),
        tick_ms: ms(tick),
        attempt,
    })
}

fn ran(status: Status) -> TickResult {
    TickResult::Ran { run: 7, status }
}

fn policy(missed: Missed, overlap: Overlap) -> Policy {
    Policy {
        missed,
        overlap,
        ..Policy::DEFAULT
    }
}

#[test]
fn a_tick_is_claimed_once_and_finished_once() {
    let mut r = record(DAILY, Policy::DEFAULT, "2026-01-01T02:59:30Z");
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-01T03:00:00Z")));
    assert_eq!(r.wake_ms(), Some(ms("2026-01-01T03:00:00Z")));
    assert_eq!(r.claim(ms("2026-01-01T02:59:59Z")), Claim::default());
    let claim = r.claim(ms("2026-01-01T03:00:00.200Z"));
    assert_eq!(claim.dispatch, job("2026-01-01T03:00:00Z", 1));
    assert_eq!(r.state.last_tick_ms, Some(ms("2026-01-01T03:00:00Z")));
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-02T03:00:00Z")));
    // Claiming again hands out nothing: the tick runs.
    assert_eq!(r.claim(ms("2026-01-01T03:00:01Z")), Claim::default());
    let tick = ms("2026-01-01T03:00:00Z");
    let now = ms("2026-01-01T03:02:00Z");
    assert_eq!(
        r.finish(tick, 1, &ran(Status::Success), now),
        Ok(Finished::Done)
    );
    assert!(r.state.pending.is_empty());
    let last = r.state.last_run.clone().expect("a last run");
    assert_eq!(
        (last.tick_ms, last.run, last.status),
        (tick, Some(7), Status::Success)
    );
    // A second finish of the same attempt is refused: nothing counts twice.
    assert!(r.finish(tick, 1, &ran(Status::Success), now).is_err());
}

#[test]
fn ticks_before_registration_were_never_missed() {
    let mut r = record(DAILY, Policy::DEFAULT, "2026-01-01T12:00:00Z");
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-02T03:00:00Z")));
    assert_eq!(r.claim(ms("2026-01-01T12:00:01Z")), Claim::default());
}

/// A daily schedule that ran on the 1st, then a scheduler down until the
/// 4th at 10:00.
fn after_downtime(policy: Policy) -> (ScheduleRecord, Claim) {
    let mut r = record(DAILY, policy, "2026-01-01T00:00:00Z");
    let first = r.claim(ms("2026-01-01T03:00:00Z"));
    assert!(first.dispatch.is_some());
    r.finish(
        ms("2026-01-01T03:00:00Z"),
        1,
        &ran(Status::Success),
        ms("2026-01-01T03:01:00Z"),
    )
    .expect("finished");
    let claim = r.claim(ms("2026-01-04T10:00:00Z"));
    (r, claim)
}

#[test]
fn missed_latest_runs_the_newest_tick_late() {
    let (r, claim) = after_downtime(Policy::DEFAULT);
    assert_eq!(claim.dispatch, job("2026-01-04T03:00:00Z", 1));
    assert_eq!(claim.skipped, 2);
    assert_eq!(r.state.skipped, 2);
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-05T03:00:00Z")));
}

#[test]
fn missed_skip_runs_nothing_late_but_a_tick_on_time() {
    let (r, claim) = after_downtime(policy(Missed::Skip, Overlap::Skip));
    assert_eq!(claim.dispatch, None);
    assert_eq!(claim.skipped, 3);
    assert_eq!(r.state.last_tick_ms, Some(ms("2026-01-04T03:00:00Z")));
    let skip = r.state.last_skip.expect("a skip");
    assert!(skip.reason.starts_with("missed"), "{skip:?}");
    // Within the grace period a tick is on time, even with `skip`.
    let mut r = record(
        DAILY,
        policy(Missed::Skip, Overlap::Skip),
        "2026-01-01T00:00:00Z",
    );
    let claim = r.claim(ms("2026-01-01T03:00:59Z"));
    assert_eq!(claim.dispatch, job("2026-01-01T03:00:00Z", 1));
}

#[test]
fn missed_all_catches_up_in_order_within_max_catchup() {
    let mut p = policy(Missed::All, Overlap::Skip);
    p.max_catchup = 2;
    let (mut r, claim) = after_downtime(p);
    assert_eq!(claim.dispatch, job("2026-01-03T03:00:00Z", 1));
    assert_eq!(claim.skipped, 1);
    let waiting: Vec<u64> = r.state.pending.iter().map(|t| t.tick_ms).collect();
    assert_eq!(
        waiting,
        [ms("2026-01-03T03:00:00Z"), ms("2026-01-04T03:00:00Z")]
    );
    // Catch-up ticks queue behind each other even with `overlap: skip`.
    let now = ms("2026-01-04T10:05:00Z");
    r.finish(ms("2026-01-03T03:00:00Z"), 1, &ran(Status::Success), now)
        .expect("finished");
    assert!(r.wake_ms().is_some_and(|wake| wake <= now), "due at once");
    assert_eq!(r.claim(now).dispatch, job("2026-01-04T03:00:00Z", 1));
}

#[test]
fn missed_all_after_a_long_outage_counts_what_it_leaves_out() {
    let mut p = policy(Missed::All, Overlap::Queue);
    p.max_catchup = 3;
    let mut r = record("*/5 * * * *", p, "2026-01-01T00:00:00Z");
    let claim = r.claim(ms("2026-01-02T00:00:00Z"));
    assert_eq!(claim.dispatch, job("2026-01-01T23:50:00Z", 1));
    assert_eq!(r.state.pending.len(), 3);
    assert_eq!(claim.skipped, 288 - 3);
}

#[test]
fn overlap_skip_drops_a_tick_while_the_last_one_runs() {
    let mut r = record("*/5 * * * *", Policy::DEFAULT, "2026-01-01T00:00:00Z");
    assert!(r.claim(ms("2026-01-01T00:05:00Z")).dispatch.is_some());
    let claim = r.claim(ms("2026-01-01T00:10:00Z"));
    assert_eq!((claim.dispatch, claim.skipped), (None, 1));
    assert_eq!(
        r.state.last_skip.clone().expect("skip").reason,
        "overlap: the previous run was still going"
    );
    assert_eq!(r.state.pending.len(), 1);
}

#[test]
fn overlap_queue_runs_the_tick_after_the_last_one() {
    let mut r = record(
        "*/5 * * * *",
        policy(Missed::Latest, Overlap::Queue),
        "2026-01-01T00:00:00Z",
    );
    assert!(r.claim(ms("2026-01-01T00:05:00Z")).dispatch.is_some());
    assert_eq!(r.claim(ms("2026-01-01T00:10:00Z")), Claim::default());
    let now = ms("2026-01-01T00:11:00Z");
    r.finish(ms("2026-01-01T00:05:00Z"), 1, &ran(Status::Success), now)
        .expect("finished");
    assert_eq!(r.claim(now).dispatch, job("2026-01-01T00:10:00Z", 1));
}

#[test]
fn overlap_cancel_stops_the_last_run_and_runs_the_new_tick_after_it() {
    let mut p = policy(Missed::Latest, Overlap::Cancel);
    p.retries = 3;
    let mut r = record("*/5 * * * *", p, "2026-01-01T00:00:00Z");
    assert!(r.claim(ms("2026-01-01T00:05:00Z")).dispatch.is_some());
    let claim = r.claim(ms("2026-01-01T00:10:00Z"));
    assert_eq!(claim.cancel, Some(ms("2026-01-01T00:05:00Z")));
    assert_eq!(claim.dispatch, None);
    assert!(r.cancelled(ms("2026-01-01T00:05:00Z"), 1));
    // A third tick replaces the second, which never started.
    let claim = r.claim(ms("2026-01-01T00:15:00Z"));
    assert_eq!((claim.cancel, claim.skipped), (None, 1));
    // The cancelled run errors, and is not retried.
    let now = ms("2026-01-01T00:15:30Z");
    let done = r.finish(ms("2026-01-01T00:05:00Z"), 1, &ran(Status::Error), now);
    assert_eq!(done, Ok(Finished::Done));
    assert_eq!(r.claim(now).dispatch, job("2026-01-01T00:15:00Z", 1));
}

#[test]
fn a_changed_expression_never_fires_a_tick_already_run() {
    let mut r = record(DAILY, Policy::DEFAULT, "2026-01-01T00:00:00Z");
    r.claim(ms("2026-01-01T03:00:00Z"));
    r.finish(
        ms("2026-01-01T03:00:00Z"),
        1,
        &ran(Status::Success),
        ms("2026-01-01T03:00:30Z"),
    )
    .expect("finished");
    // The same instant, written in another zone, is not run again.
    let mut moved = entry("0 4 * * *", Policy::DEFAULT);
    moved.timezone = "Europe/Lisbon".into();
    moved.cron = "0 3 * * *".into();
    r.redefine(moved, ms("2026-01-01T03:00:40Z"));
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-02T03:00:00Z")));
    assert_eq!(r.claim(ms("2026-01-01T03:00:50Z")), Claim::default());
    // A new expression whose ticks were due earlier today: not missed, as
    // they were never due under the schedule as it stood.
    r.redefine(
        entry("*/10 * * * *", Policy::DEFAULT),
        ms("2026-01-01T09:03:00Z"),
    );
    assert_eq!(r.state.next_due_ms, Some(ms("2026-01-01T09:10:00Z")));
    let claim = r.claim(ms("2026-01-01T09:10:00Z"));
    assert_eq!(
        (claim.dispatch, claim.skipped),
        (job("2026-01-01T09:10:00Z", 1), 0)
    );
    // The same definition again changes nothing.
    let before = r.state.clone();
    r.redefine(
        entry("*/10 * * * *", Policy::DEFAULT),
        ms("2026-01-01T09:10:05Z"),
    );
    assert_eq!(r.state, before);
}

#[test]
fn errors_are_retried_with_growing_deterministic_backoff() {
    let mut p = Policy::DEFAULT;
    p.retries = 2;
    p.retry_backoff_ms = 60_000;
    let mut r = record(DAILY, p, "2026-01-01T00:00:00Z");
    let tick = ms("2026-01-01T03:00:00Z");
    r.claim(tick);
    let now = ms("2026-01-01T03:01:00Z");
    let Ok(Finished::Retry { at_ms }) = r.finish(tick, 1, &ran(Status::Error), now) else {
        panic!("a retry");
    };
    let delay = at_ms - now;
    assert!((60_000..=75_000).contains(&delay), "{delay}");
    assert_eq!(delay, retry_delay_ms(&r.entry.id, tick, 2, 60_000));
    assert_eq!(r.wake_ms(), Some(at_ms));
    assert_eq!(r.claim(at_ms - 1), Claim::default());
    assert_eq!(r.claim(at_ms).dispatch, job("2026-01-01T03:00:00Z", 2));
    let Ok(Finished::Retry { at_ms: second }) = r.finish(tick, 2, &ran(Status::Error), at_ms)
    else {
        panic!("a second retry");
    };
    assert!((120_000..=150_000).contains(&(second - at_ms)));
    r.claim(second);
    assert_eq!(
        r.finish(tick, 3, &ran(Status::Error), second + 1),
        Ok(Finished::Done)
    );
    assert_eq!(r.state.last_run.clone().expect("run").attempt, 3);
}

#[test]
fn failed_checks_are_not_retried_but_failed_checkouts_are() {
    let mut p = Policy::DEFAULT;
    p.retries = 1;
    let mut r = record(DAILY, p, "2026-01-01T00:00:00Z");
    let tick = ms("2026-01-01T03:00:00Z");
    r.claim(tick);
    assert_eq!(
        r.finish(tick, 1, &ran(Status::Failure), tick + 1),
        Ok(Finished::Done)
    );
    let tick = ms("2026-01-02T03:00:00Z");
    r.claim(tick);
    let failed = TickResult::Failed {
        error: "cannot fetch".into(),
        retry: true,
    };
    assert!(matches!(
        r.finish(tick, 1, &failed, tick + 1),
        Ok(Finished::Retry { .. })
    ));
    let last = r.state.last_run.clone().expect("last");
    assert_eq!(
        (last.run, last.error.as_deref()),
        (None, Some("cannot fetch"))
    );
}

#[test]
fn jitter_is_a_pure_function_of_schedule_tick_and_attempt() {
    let a = retry_delay_ms("s", 1_000, 2, 10_000);
    assert_eq!(a, retry_delay_ms("s", 1_000, 2, 10_000));
    let spread: std::collections::HashSet<u64> = (0..50)
        .map(|tick| retry_delay_ms("s", tick * 60_000, 2, 10_000))
        .collect();
    assert!(spread.len() > 10, "jitter spreads schedules: {spread:?}");
    assert!(spread.iter().all(|d| (10_000..=12_500).contains(d)));
    assert!(retry_delay_ms("s", 0, 60, 10_000) >= MAX_RETRY_DELAY_MS);
    assert!(retry_delay_ms("s", 0, 60, 10_000) <= MAX_RETRY_DELAY_MS * 5 / 4);
    assert_eq!(retry_delay_ms("s", 0, 2, 1), 1);
}

#[test]
fn recovery_reruns_an_unfinished_tick_on_time() {
    let mut r = record(DAILY, Policy::DEFAULT, "2026-01-01T00:00:00Z");
    r.claim(ms("2026-01-01T03:00:00Z"));
    // Crash while it runs; back 20 s later.
    let claim = r.recover(ms("2026-01-01T03:00:20Z"));
    assert_eq!(claim.dispatch, job("2026-01-01T03:00:00Z", 1));
    assert_eq!(claim.skipped, 0);
}

#[test]
fn recovery_applies_the_missed_policy_to_unfinished_ticks() {
    let hourly = "0 * * * *";
    // `latest`: the unfinished 03:00 and the missed 04:00 give way to 05:00.
    let mut r = record(hourly, Policy::DEFAULT, "2026-01-01T02:30:00Z");
    r.claim(ms("2026-01-01T03:00:00Z"));
    let claim = r.recover(ms("2026-01-01T05:30:00Z"));
    assert_eq!(
        (claim.dispatch, claim.skipped),
        (job("2026-01-01T05:00:00Z", 1), 2)
    );
    // `skip`: all are late.
    let mut r = record(
        hourly,
        policy(Missed::Skip, Overlap::Skip),
        "2026-01-01T02:30:00Z",
    );
    r.claim(ms("2026-01-01T03:00:00Z"));
    let claim = r.recover(ms("2026-01-01T05:30:00Z"));
    assert_eq!((claim.dispatch, claim.skipped), (None, 3));
    assert!(r.state.pending.is_empty());
    // `all`: the unfinished one first.
    let mut r = record(
        hourly,
        policy(Missed::All, Overlap::Skip),
        "2026-01-01T02:30:00Z",
    );
    r.claim(ms("2026-01-01T03:00:00Z"));
    let claim = r.recover(ms("2026-01-01T05:30:00Z"));
    assert_eq!(
        (claim.dispatch, claim.skipped),
        (job("2026-01-01T03:00:00Z", 1), 0)
    );
    assert_eq!(r.state.pending.len(), 3);
    // A retry keeps its attempt and its backoff.
    let mut p = Policy::DEFAULT;
    p.retries = 1;
    let mut r = record(hourly, p, "2026-01-01T02:30:00Z");
    let tick = ms("2026-01-01T03:00:00Z");
    r.claim(tick);
    let Ok(Finished::Retry { at_ms }) = r.finish(tick, 1, &ran(Status::Error), tick + 1000) else {
        panic!("a retry");
    };
    let claim = r.recover(tick + 2000);
    assert_eq!(claim.dispatch, None);
    assert_eq!(r.wake_ms(), Some(at_ms));
}

#[test]
fn entries_come_from_workflows_with_stable_ids() {
    let text = "name: nightly\non:\n  schedule:\n    - cron: \"0 3 * * *\"\n      timezone: Europe/Paris\n    - cron: \"@hourly\"\n      overlap: queue\nschedule_policy: { retries: 2 }\nreport: { issue: 4 }\nsteps: [{ uses: size }]\n";
    let parsed = crate::workflow::parse(".andon/workflows/nightly.yml", text);
    let workflow = parsed.workflow.expect("valid");
    let origin = Origin::Local { path: "/r".into() };
    let found = entries("acme/etl", &origin, &[workflow]);
    let ids: Vec<&str> = found.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "acme/etl:.andon/workflows/nightly.yml#0",
            "acme/etl:.andon/workflows/nightly.yml#1"
        ]
    );
    assert_eq!(found[0].timezone, "Europe/Paris");
    assert_eq!(found[1].timezone, "UTC");
    assert_eq!(found[0].policy.overlap, Overlap::Skip);
    assert_eq!(found[1].policy.overlap, Overlap::Queue);
    assert!(found.iter().all(|e| e.policy.retries == 2));
    assert_eq!(found[0].report.issue, Some(4));
    assert!(found.iter().all(|e| e.cron().is_ok()));
}

#[test]
fn instants_format_in_their_zone() {
    assert_eq!(
        format_instant(ms("2026-07-01T01:00:00Z"), "Europe/Paris"),
        "2026-07-01T03:00:00+02:00"
    );
    assert_eq!(format_instant(0, "Nowhere/Else"), "1970-01-01T00:00:00Z");
}
