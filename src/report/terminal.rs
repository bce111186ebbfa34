//! The terminal funnel: phase by phase, how many attacks arrived and how many the defence broke.

use std::fmt::Write;

use super::format::counted;
use super::{Method, RunResult};
use crate::phase::Phase;

/// A readable table of the funnel and the completion rate.
pub fn funnel(r: &RunResult) -> String {
    let f = r.figures;
    let mut out = String::new();
    let how = match (f.method, r.seed) {
        (Method::MonteCarlo, Some(seed)) => {
            format!("{}, seed {seed}", counted(f.trials, "trial", "trials"))
        }
        _ => format!(
            "exact, as expected counts of {}",
            counted(f.trials, "trial", "trials")
        ),
    };
    let _ = writeln!(out, "{} — {how}", r.scenario.name);
    let _ = writeln!(
        out,
        "{:<24} {:>12} {:>12} {:>10}  {:<21}",
        "phase", "reached", "broken", "break rate", "95% interval"
    );
    for phase in Phase::ALL {
        let i = phase.index();
        let (est, ci) = match (f.rate(f.counts.broken[i], f.counts.reached[i]), f.method) {
            (Some((e, lo, hi)), Method::MonteCarlo) => {
                (format!("{e:.4}"), format!("[{lo:.4}, {hi:.4}]"))
            }
            (Some((e, _, _)), Method::Exact) => (format!("{e:.4}"), "exact".to_owned()),
            (None, _) => ("-".to_owned(), String::new()),
        };
        let _ = writeln!(
            out,
            "{:<24} {:>12.0} {:>12.0} {:>10}  {:<21}",
            phase.title(),
            f.counts.reached[i],
            f.counts.broken[i],
            est,
            ci
        );
    }
    if let Some((e, lo, hi)) = f.rate(f.counts.completed, f.trials as f64) {
        let ci = match f.method {
            Method::MonteCarlo => format!(" [{lo:.6}, {hi:.6}]"),
            Method::Exact => " (exact)".to_owned(),
        };
        let _ = writeln!(
            out,
            "completed attacks: {:.0} of {} = {e:.6}{ci}",
            f.counts.completed, f.trials
        );
    }
    if let Some(loss) = r.loss {
        let _ = writeln!(out, "{}", loss.summary_line());
    }
    out
}
