//! Writers from a finished run to bytes: CSV files, the JSON manifest, the terminal funnel; and
//! renderings of a result folder's files: `report.html`, `navigator-layer.json`, `results.xlsx`.
//!
//! Every writer is a pure function of a [`RunResult`]; none touches the file system. The figures
//! come from the Monte Carlo engine (counts, Wilson intervals) or from the exact evaluator
//! (expected counts for the stated trials, intervals equal to the value); the files are the same
//! and say which in their `method` column.

mod compare_out;
mod csv_out;
pub(crate) mod folder;
pub(crate) mod format;
mod landscape_out;
pub use format::counted;
pub mod html;
mod loss_out;
mod manifest;
mod navigator;
mod optimize_out;
mod terminal;
mod xlsx;

pub use compare_out::{
    COMPARISON_HEADER, PHASE_DELTAS_HEADER, RANKING_HEADER, comparison_csv, comparison_table,
    phase_deltas_csv, ranking_csv, ranking_table,
};
pub use csv_out::with_column;
pub use csv_out::{Arms, controls_csv, phases_csv, techniques_csv};
pub use csv_out::{CONTROLS_HEADER, PHASES_HEADER, TECHNIQUES_HEADER};
pub use folder::ResultFolder;
pub use html::report_html;
pub use landscape_out::{
    AdversaryArms, AdversaryResult, LANDSCAPE_COMPARISON_HEADER, LANDSCAPE_HEADER,
    LANDSCAPE_RANKING_HEADER, LandscapeResult, landscape_comparison_csv,
    landscape_comparison_table, landscape_csv, landscape_exceedance_csv, landscape_json,
    landscape_ranking_csv, landscape_ranking_table, landscape_table,
};
pub use loss_out::{LOSS_EXCEEDANCE_HEADER, LossJson, loss_exceedance_csv};
pub use manifest::run_json;
pub use navigator::navigator_layer;
pub use optimize_out::{
    AdversaryPicks, FRONTIER_HEADER, LANDSCAPE_FRONTIER_HEADER, MoneySummary, OptimizeSummary,
    frontier_csv, optimize_json, optimize_table,
};
pub use terminal::funnel;
pub use xlsx::results_xlsx;

pub use crate::stats::figures::{CurvePoint, EXCEEDANCE_POINTS, Figures, LossFigures, Method};

use crate::scenario::Scenario;

impl Figures {
    /// A count as a CSV cell: an integer for sampled counts, six decimals for expected ones.
    pub(crate) fn count(&self, x: f64) -> String {
        match self.method {
            Method::MonteCarlo => format!("{x:.0}"),
            Method::Exact => format!("{x:.6}"),
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
