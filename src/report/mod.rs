//! Writers from a finished run to bytes: CSV files, the JSON manifest, the terminal funnel.
//!
//! Every writer is a pure function of a [`RunResult`]; none touches the file system.

mod csv_out;
mod manifest;
mod terminal;

pub use csv_out::{controls_csv, phases_csv, techniques_csv};
pub use manifest::run_json;
pub use terminal::funnel;

use crate::scenario::Scenario;
use crate::stats::Tally;

/// A finished run and the facts about it that reports print.
#[derive(Debug, Clone)]
pub struct RunResult<'a> {
    /// The scenario that ran.
    pub scenario: &'a Scenario,
    /// The scenario file as the user named it.
    pub path: &'a str,
    /// SHA-256 of the scenario file's bytes, lowercase hex.
    pub sha256: &'a str,
    /// The seed used.
    pub seed: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds the simulation took.
    pub wall_seconds: f64,
    /// The counts.
    pub tally: &'a Tally,
}

/// Formats a rate with six decimals, or nothing when undefined.
pub(crate) fn rate6(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// Neutralises a free-text cell that a spreadsheet would read as a formula (OWASP: prefix
/// cells starting with `=`, `+`, `-`, `@`, tab or carriage return with a single quote).
pub(crate) fn text_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}
