//! Monte Carlo against exact evaluation: each estimate's distance from the exact value in
//! standard errors. A user's own check of the engine on their scenario.

use std::fmt::Write;

use crate::phase::Phase;
use crate::scenario::Scenario;
use crate::stats::Counts;
use crate::stats::figures::Figures;

/// One compared proportion.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is compared, e.g. `break rate: delivery`.
    pub what: String,
    /// The exact probability.
    pub exact: f64,
    /// The Monte Carlo estimate (`None` when no trial reached the phase).
    pub estimate: Option<f64>,
    /// Trials the estimate is based on.
    pub n: u64,
    /// `(estimate − exact) / sqrt(exact (1 − exact) / n)`; 0 when equal, infinite when the exact
    /// value is 0 or 1 and the estimate differs.
    pub z: f64,
}

fn row(what: String, exact: f64, k: f64, n: f64) -> Row {
    if n <= 0.0 {
        return Row {
            what,
            exact,
            estimate: None,
            n: 0,
            z: 0.0,
        };
    }
    let est = k / n;
    let var = exact * (1.0 - exact) / n;
    let z = if est == exact {
        0.0
    } else if var <= 0.0 {
        f64::INFINITY
    } else {
        (est - exact) / var.sqrt()
    };
    Row {
        what,
        exact,
        estimate: Some(est),
        n: n as u64,
        z,
    }
}

/// Per-phase break rates (conditional on reaching the phase), completion, and each break
/// attribution share.
pub fn compare(s: &Scenario, exact: &Counts<f64>, sampled: &Figures) -> Vec<Row> {
    let trials = sampled.trials as f64;
    let mut rows = Vec::new();
    for phase in Phase::ALL {
        let i = phase.index();
        let q = if exact.reached[i] > 0.0 {
            exact.broken[i] / exact.reached[i]
        } else {
            0.0
        };
        rows.push(row(
            format!("break rate: {}", phase.id()),
            q,
            sampled.counts.broken[i],
            sampled.counts.reached[i],
        ));
    }
    rows.push(row(
        "completion rate".to_owned(),
        exact.completed,
        sampled.counts.completed,
        trials,
    ));
    for (i, c) in s.controls.iter().enumerate().filter(|(_, c)| c.enabled) {
        rows.push(row(
            format!("break share: {}", c.id),
            exact.control_breaks[i],
            sampled.counts.control_breaks[i],
            trials,
        ));
    }
    rows.push(row(
        "break share: technique-failed".to_owned(),
        exact.breaks_technique_failed,
        sampled.counts.breaks_technique_failed,
        trials,
    ));
    rows.push(row(
        "break share: no-viable-technique".to_owned(),
        exact.breaks_no_viable,
        sampled.counts.breaks_no_viable,
        trials,
    ));
    rows
}

/// The comparison as a terminal table.
pub fn table(s: &Scenario, rows: &[Row], seed: u64, trials: u64, z_max: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — Monte Carlo ({trials} {}, seed {seed}) against exact",
        s.name,
        if trials == 1 { "trial" } else { "trials" }
    );
    let _ = writeln!(
        out,
        "{:<44} {:>10} {:>10} {:>8}",
        "figure", "exact", "estimate", "z"
    );
    for r in rows {
        let est = r.estimate.map_or("-".to_owned(), |e| format!("{e:.6}"));
        let flag = if r.z.abs() > z_max {
            "  <-- beyond bound"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<44} {:>10.6} {:>10} {:>8.2}{flag}",
            r.what, r.exact, est, r.z
        );
    }
    let worst = rows.iter().map(|r| r.z.abs()).fold(0.0, f64::max);
    let verdict = if worst <= z_max { "agree" } else { "DISAGREE" };
    let _ = writeln!(
        out,
        "largest |z| = {worst:.2} (bound {z_max}): the methods {verdict}\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_scores_use_the_exact_standard_error() {
        let r = row("x".into(), 0.5, 5200.0, 10000.0);
        assert!((r.z - 4.0).abs() < 1e-9, "{}", r.z);
        assert_eq!(row("x".into(), 0.0, 0.0, 10.0).z, 0.0);
        assert_eq!(row("x".into(), 1.0, 9.0, 10.0).z, f64::INFINITY);
        assert_eq!(row("x".into(), 0.3, 0.0, 0.0).estimate, None);
    }
}
