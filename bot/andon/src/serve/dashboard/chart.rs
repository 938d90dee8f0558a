//! Inline SVG line charts of one metric over time: axes with labels, a
//! point per run linked to it, a `<title>` tooltip on each point. No
//! JavaScript: the browser shows the titles itself.

use andon_core::run::Status;
use maud::{Markup, html};

/// One value of a metric, measured by a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time_ms: u64,
    pub value: f64,
    pub run: u64,
    /// How the run's check ended: colours the point.
    pub status: Status,
}

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;

/// A chart of `points` (oldest first) named `name`.
pub fn line(name: &str, points: &[Point]) -> Markup {
    let (min, max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.value), hi.max(p.value))
        });
    // Counts and percentages start at zero, so that a flat series reads
    // as flat; a series that goes below zero keeps its own floor.
    let (min, max) = if min.is_finite() && max.is_finite() {
        let min = min.min(0.0);
        if (max - min).abs() < f64::EPSILON {
            (min, min + 1.0)
        } else {
            (min, max)
        }
    } else {
        (0.0, 1.0)
    };
    let first = points.first().map_or(0, |p| p.time_ms);
    let last = points.last().map_or(0, |p| p.time_ms);
    let span = last.saturating_sub(first).max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |p: &Point| {
        if points.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (p.time_ms.saturating_sub(first)) as f64 / span * plot_w
        }
    };
    let y = |v: f64| TOP + (max - v) / (max - min) * plot_h;
    let path: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p), y(p.value)))
        .collect();
    let bottom = TOP + plot_h;
    html! {
        svg class="chart" role="img" width=(WIDTH) height=(HEIGHT)
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) xmlns="http://www.w3.org/2000/svg" {
            title { (name) }
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(bottom) stroke="#8c959f" {}
            line x1=(LEFT) y1=(bottom) x2=(WIDTH - RIGHT) y2=(bottom) stroke="#8c959f" {}
            text x=(LEFT - 4.0) y=(TOP + 4.0) text-anchor="end" { (label(max)) }
            text x=(LEFT - 4.0) y=(bottom) text-anchor="end" { (label(min)) }
            text x=(LEFT) y=(HEIGHT - 16.0) { (day(first)) }
            text x=(WIDTH - RIGHT) y=(HEIGHT - 16.0) text-anchor="end" { (day(last)) }
            text x=(LEFT + plot_w / 2.0) y=(HEIGHT - 3.0) text-anchor="middle" { "run start (UTC)" }
            polyline points=(path.join(" ")) fill="none" stroke="#0969da" stroke-width="1.5" {}
            @for p in points {
                a href={ "/runs/" (p.run) } {
                    circle cx=(format!("{:.1}", x(p))) cy=(format!("{:.1}", y(p.value))) r="3.5"
                        fill=(colour(p.status)) {
                        title { "run #" (p.run) " (" (p.status.as_str()) "): " (label(p.value)) " at " (super::pages::utc(p.time_ms)) }
                    }
                }
            }
        }
    }
}

/// The point's colour: the run status badges' colours.
fn colour(status: Status) -> &'static str {
    match status {
        Status::Success => "#1a7f37",
        Status::Failure | Status::Error => "#cf222e",
        Status::Skipped => "#6e7781",
    }
}

fn label(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn day(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(String::new, |t| t.format("%m-%d %H:%M").to_string())
}
