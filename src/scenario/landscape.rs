//! Threat landscapes: several adversaries (`[[adversaries]]`) against one defence.
//!
//! A landscape is validated as one file: every adversary's techniques sit in
//! [`Scenario::techniques`], each adversary owning a contiguous range of them, and the controls
//! may name the techniques of any adversary. What the engine and the exact evaluator play is one
//! adversary at a time: [`Scenario::parts`] cuts the file into one ordinary one-adversary
//! scenario per enabled adversary (its techniques, the controls as they act on them, its own
//! rate and impact), so every figure of a one-adversary scenario exists per adversary, and the
//! landscape's totals are sums over the parts.
//!
//! Invariant: an adversary's part depends only on the file's shared sections and that
//! adversary's own table, and is played on a seed keyed by its id, never by its place.

use std::ops::Range;

use super::{Adversary, Scenario};
use crate::money::{Impact, LossModel};

/// One adversary of a threat landscape, as `[[adversaries]]` defines it.
#[derive(Debug, Clone, PartialEq)]
pub struct LandscapeAdversary {
    /// Unique among adversaries, techniques and controls; names the adversary's rows and keys
    /// its random streams.
    pub id: String,
    /// Its name and attempts per phase.
    pub profile: Adversary,
    /// Its techniques: a range of [`Scenario::techniques`].
    pub techniques: Range<usize>,
    /// Expected campaigns per year (Poisson rate λ), when given.
    pub attacks_per_year: Option<f64>,
    /// The loss of one of its completed attacks, when it has its own (else `[loss].impact`).
    pub impact: Option<Impact>,
    /// Disabled adversaries are left out of `run` and `exact`.
    pub enabled: bool,
}

/// One adversary of a landscape as a scenario of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The adversary's id.
    pub id: String,
    /// Its expected campaigns per year (1 when the file gives none: a landscape without `[loss]`
    /// of one adversary).
    pub attacks_per_year: f64,
    /// The one-adversary scenario: the file's name, environment and controls, this adversary's
    /// techniques (indices renumbered from 0), and with `[loss]` its own rate and impact.
    pub scenario: Scenario,
}

impl Scenario {
    /// Whether the file is a threat landscape (`[[adversaries]]`), whose figures are per
    /// adversary and in total.
    pub fn is_landscape(&self) -> bool {
        !self.adversaries.is_empty()
    }

    /// Each enabled adversary of a landscape as a one-adversary scenario, in file order; empty
    /// for a file with `[adversary]`.
    pub fn parts(&self) -> Vec<Part> {
        (self.adversaries.iter())
            .filter(|a| a.enabled)
            .map(|a| self.part(a))
            .collect()
    }

    fn part(&self, a: &LandscapeAdversary) -> Part {
        let range = a.techniques.clone();
        let renumber = |i: usize| range.contains(&i).then(|| i - range.start);
        let techniques = (self.techniques[range.clone()].iter())
            .map(|t| {
                let mut t = t.clone();
                t.after = t.after.iter().filter_map(|&i| renumber(i)).collect();
                t
            })
            .collect();
        let controls = (self.controls.iter())
            .map(|c| {
                let mut c = c.clone();
                c.techniques = (c.techniques.as_ref())
                    .map(|only| only.iter().filter_map(|&i| renumber(i)).collect());
                c
            })
            .collect();
        let loss = self.loss.as_ref().map(|m| LossModel {
            attacks_per_year: a.attacks_per_year.unwrap_or(m.attacks_per_year),
            impact: a.impact.unwrap_or(m.impact),
            currency: m.currency.clone(),
        });
        Part {
            id: a.id.clone(),
            attacks_per_year: a.attacks_per_year.unwrap_or(1.0),
            scenario: Scenario {
                name: self.name.clone(),
                description: self.description.clone(),
                trials: self.trials,
                seed: self.seed,
                environment: self.environment.clone(),
                adversary: a.profile.clone(),
                techniques,
                controls,
                loss,
                adversaries: Vec::new(),
                variants: Vec::new(),
            },
        }
    }
}
