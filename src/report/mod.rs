//! Writers from a finished run to bytes: CSV files, the JSON manifest, the terminal funnel; and
//! renderings of a result folder's files: `report.html`, `navigator-layer.json`, `results.xlsx`.
//!
//! Every writer is a pure function of a [`RunResult`]; none touches the file system. The figures
//! come from the Monte Carlo engine (counts, Wilson intervals) or from the exact evaluator
//! (expected counts for the stated trials, intervals equal to the value); the files are the same
//! and say which in their `method` column.

mod compare_out;
mod csv_out;
pub mod folder;
pub mod html;
mod loss_out;
mod manifest;
pub mod navigator;
mod optimize_out;
mod terminal;
pub mod xlsx;

pub use compare_out::{
    COMPARISON_HEADER, Marginal, PHASE_DELTAS_HEADER, RANKING_HEADER, comparison_csv,
    comparison_table, phase_deltas_csv, rank, ranking_csv, ranking_table,
};
pub use csv_out::{CONTROLS_HEADER, PHASES_HEADER, TECHNIQUES_HEADER};
pub use csv_out::{
    controls_csv, controls_csv_by_variant, phases_csv, phases_csv_by_variant, techniques_csv,
    techniques_csv_by_variant,
};
pub use folder::ResultFolder;
pub use html::report_html;
pub use loss_out::{
    CurvePoint, EXCEEDANCE_POINTS, LOSS_EXCEEDANCE_HEADER, LossFigures, LossJson,
    loss_exceedance_csv,
};
pub use manifest::run_json;
pub use navigator::navigator_layer;
pub use optimize_out::{
    FRONTIER_HEADER, MoneySummary, OptimizeSummary, frontier_csv, optimize_table,
};
pub use terminal::funnel;
pub use xlsx::results_xlsx;

use crate::phase::N_PHASES;
use crate::scenario::Scenario;
use crate::sim::exact::{ExactResult, TechniqueOdds};
use crate::stats::{Rate, Tally};

/// How the figures were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Sampled by the Monte Carlo engine.
    MonteCarlo,
    /// Computed by enumeration.
    Exact,
}

impl Method {
    /// The label in CSV files and run.json.
    pub const fn id(self) -> &'static str {
        match self {
            Method::MonteCarlo => "monte-carlo",
            Method::Exact => "exact",
        }
    }
}

/// Counts of a run, whichever method produced them: sampled counts, or expected counts for
/// `trials` trials.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The method.
    pub method: Method,
    /// Trials (run, or the number the expected counts are scaled to).
    pub trials: u64,
    /// Trials reaching each phase.
    pub reached: [f64; N_PHASES],
    /// Trials broken at each phase.
    pub broken: [f64; N_PHASES],
    /// Completed attacks.
    pub completed: f64,
    /// Per control: attempts it acted on.
    pub control_fired: Vec<f64>,
    /// Per control: breaks attributed to it.
    pub control_breaks: Vec<f64>,
    /// Breaks attributed to `technique-failed`.
    pub technique_failed: f64,
    /// Breaks attributed to `no-viable-technique`.
    pub no_viable: f64,
    /// Per technique: outcome counts.
    pub techniques: Vec<TechniqueOdds>,
}

impl Figures {
    /// The counts of a Monte Carlo run.
    pub fn sampled(t: &Tally) -> Figures {
        let f = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        Figures {
            method: Method::MonteCarlo,
            trials: t.trials,
            reached: t.reached.map(|x| x as f64),
            broken: t.broken.map(|x| x as f64),
            completed: t.completed as f64,
            control_fired: f(&t.control_fired),
            control_breaks: f(&t.control_breaks),
            technique_failed: t.breaks_technique_failed as f64,
            no_viable: t.breaks_no_viable as f64,
            techniques: t
                .techniques
                .iter()
                .map(|c| TechniqueOdds {
                    attempts: c.attempts as f64,
                    prevented: c.prevented as f64,
                    deceived: c.deceived as f64,
                    interrupted: c.interrupted as f64,
                    failed: c.failed as f64,
                    succeeded: c.succeeded as f64,
                    detected: c.detected as f64,
                    evicted: c.evicted as f64,
                })
                .collect(),
        }
    }

    /// Expected counts for `trials` trials from exact probabilities.
    pub fn exact(r: &ExactResult, trials: u64) -> Figures {
        let n = trials as f64;
        let f = |v: &[f64]| v.iter().map(|&x| x * n).collect::<Vec<_>>();
        Figures {
            method: Method::Exact,
            trials,
            reached: r.reached.map(|x| x * n),
            broken: r.broken.map(|x| x * n),
            completed: r.completed * n,
            control_fired: f(&r.control_fired),
            control_breaks: f(&r.control_breaks),
            technique_failed: r.breaks_technique_failed * n,
            no_viable: r.breaks_no_viable * n,
            techniques: r
                .techniques
                .iter()
                .map(|c| {
                    let mut scaled = TechniqueOdds::default();
                    scaled.add_scaled(c, n);
                    scaled
                })
                .collect(),
        }
    }

    /// A count as a CSV cell: an integer for sampled counts, six decimals for expected ones.
    pub(crate) fn count(&self, x: f64) -> String {
        match self.method {
            Method::MonteCarlo => format!("{x:.0}"),
            Method::Exact => format!("{x:.6}"),
        }
    }

    /// The proportion `k / n` with its 95 % interval (Wilson for sampled counts; the value
    /// itself for exact ones); `None` when `n` is 0.
    pub fn rate(&self, k: f64, n: f64) -> Option<(f64, f64, f64)> {
        match self.method {
            Method::MonteCarlo => {
                let r = Rate::new(k as u64, n as u64);
                let (lo, hi) = r.interval?;
                Some((r.estimate?, lo, hi))
            }
            Method::Exact if n > 0.0 => {
                let p = (k / n).clamp(0.0, 1.0);
                Some((p, p, p))
            }
            Method::Exact => None,
        }
    }

    /// Trials that passed phase `i`.
    pub fn passed(&self, i: usize) -> f64 {
        match self.method {
            Method::MonteCarlo => self.reached[i] - self.broken[i],
            Method::Exact => self.reached.get(i + 1).copied().unwrap_or(self.completed),
        }
    }
}

/// A finished run and the facts about it that reports print.
#[derive(Debug, Clone)]
pub struct RunResult<'a> {
    /// The scenario that ran.
    pub scenario: &'a Scenario,
    /// The scenario file as the user named it.
    pub path: &'a str,
    /// SHA-256 of the scenario file's bytes, lowercase hex.
    pub sha256: &'a str,
    /// The seed used (none for exact evaluation).
    pub seed: Option<u64>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds the computation took.
    pub wall_seconds: f64,
    /// The figures.
    pub figures: &'a Figures,
    /// Annual-loss figures, when the scenario has `[loss]`.
    pub loss: Option<&'a LossFigures>,
}

/// Formats a rate with six decimals, or nothing when undefined.
pub(crate) fn rate6(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// Neutralises a text cell that a spreadsheet would read as a formula (OWASP: prefix cells
/// starting with `=`, `+`, `-`, `@`, tab or carriage return with a single quote). Every cell
/// that comes from the user goes through it: names, ids (which may begin with `-`), variant
/// names and file stems.
pub(crate) fn text_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}
