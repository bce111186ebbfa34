//! The terminal funnel: phase by phase, how many attacks arrived and how many the defence broke.

use std::fmt::Write;

use super::RunResult;
use crate::phase::Phase;
use crate::stats::Rate;

/// A readable table of the funnel and the completion rate.
pub fn funnel(r: &RunResult) -> String {
    let t = r.tally;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} trials, seed {}",
        r.scenario.name, t.trials, r.seed
    );
    let _ = writeln!(
        out,
        "{:<24} {:>12} {:>12} {:>10}  {:<21}",
        "phase", "reached", "broken", "break rate", "95% interval"
    );
    for phase in Phase::ALL {
        let i = phase.index();
        let rate = Rate::new(t.broken[i], t.reached[i]);
        let (est, ci) = match (rate.estimate, rate.interval) {
            (Some(e), Some((lo, hi))) => (format!("{e:.4}"), format!("[{lo:.4}, {hi:.4}]")),
            _ => ("-".to_owned(), String::new()),
        };
        let _ = writeln!(
            out,
            "{:<24} {:>12} {:>12} {:>10}  {:<21}",
            phase.title(),
            t.reached[i],
            t.broken[i],
            est,
            ci
        );
    }
    let done = Rate::new(t.completed, t.trials);
    if let (Some(e), Some((lo, hi))) = (done.estimate, done.interval) {
        let _ = writeln!(
            out,
            "completed attacks: {} of {} = {e:.6} [{lo:.6}, {hi:.6}]",
            t.completed, t.trials
        );
    }
    out
}
