//! Comparing control investments: the baseline and its variants run on the same trials with the
//! same random slots (common random numbers), so each difference is a paired one.
//!
//! The engine records, per variant, the joint distribution of (baseline outcome, variant
//! outcome) over trials, where an outcome is the phase at which the chain broke or
//! "completed". Every paired 2×2 table (completion, broken at each phase) and the number of
//! trials whose outcome changed derive from that 8×8 matrix.

use crate::phase::N_PHASES;
use crate::report::Figures;
use crate::scenario::Scenario;
use crate::stats::{Joint, PairedTable, Tally};

/// Outcome code of a completed attack; codes 0..7 are the phase where the chain broke.
pub const COMPLETED: usize = N_PHASES;

/// One arm of a comparison: the baseline or a variant.
#[derive(Debug, Clone)]
pub struct Arm<'a> {
    /// `baseline` or the variant's name.
    pub name: String,
    /// The scenario as this arm runs it.
    pub scenario: &'a Scenario,
    /// Its tally.
    pub tally: Tally,
    /// Joint outcomes against the baseline.
    pub joint: Joint,
}

impl Arm<'_> {
    /// Its figures, for the run reports.
    pub fn figures(&self) -> Figures {
        Figures::sampled(&self.tally)
    }

    /// Sum of the annual `cost` of its enabled controls.
    pub fn annual_cost(&self) -> f64 {
        annual_cost(self.scenario)
    }

    /// Completed (first) against the baseline (second).
    pub fn completion_table(&self) -> PairedTable {
        self.table(|o| o == COMPLETED)
    }

    /// Broken at phase `phase_idx` (first) against the baseline (second).
    pub fn broken_table(&self, phase_idx: usize) -> PairedTable {
        self.table(|o| o == phase_idx)
    }

    fn table(&self, yes: impl Fn(usize) -> bool) -> PairedTable {
        let mut t = PairedTable::default();
        for (base, row) in self.joint.iter().enumerate() {
            for (var, &k) in row.iter().enumerate() {
                match (yes(var), yes(base)) {
                    (true, true) => t.both += k,
                    (true, false) => t.first_only += k,
                    (false, true) => t.second_only += k,
                    (false, false) => t.neither += k,
                }
            }
        }
        t
    }

    /// Trials whose outcome differs from the baseline's.
    pub fn changed_trials(&self) -> u64 {
        let mut n = 0;
        for (base, row) in self.joint.iter().enumerate() {
            for (var, &k) in row.iter().enumerate() {
                if base != var {
                    n += k;
                }
            }
        }
        n
    }
}

/// Sum of the annual `cost` of a scenario's enabled controls.
pub fn annual_cost(s: &Scenario) -> f64 {
    s.controls
        .iter()
        .filter(|c| c.enabled)
        .filter_map(|c| c.cost)
        .sum()
}

/// What the paired interval of a completion-rate change says.
pub fn verdict(lo: f64, hi: f64) -> &'static str {
    if hi < 0.0 {
        "better"
    } else if lo > 0.0 {
        "worse"
    } else {
        "no clear difference"
    }
}
