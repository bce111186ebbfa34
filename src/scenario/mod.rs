//! Scenario files: the TOML format, its validation, and the validated domain model.
//!
//! Loading runs in two stages, as in ripgrep's low/high arguments: `raw` deserializes the file
//! into a mirror that keeps spans, then `validate` checks everything, collects every problem with
//! its line and column, and builds the types below. Nothing after this module can fail on bad
//! input: a [`Scenario`] is valid by construction.
//!
//! A file may also define `[[variants]]`: named changes to the scenario as written (switch
//! controls on or off, override parameters and environment facts). They are checked as strictly
//! as the rest of the file, and each is built into a complete [`Scenario`] of its own
//! ([`Scenario::variants`]).

mod diagnostic;
mod landscape;
mod raw;
mod validate;
mod variant;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, SHOWN_PER_KIND};
pub use landscape::{LandscapeAdversary, Part};
pub use variant::id_difference;

use crate::money::LossModel;
use crate::phase::{CourseOfAction, Phase};

/// Largest scenario file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most techniques one phase may have (the engine tracks tried techniques in a 64-bit set).
pub const MAX_TECHNIQUES_PER_PHASE: usize = 64;
/// Largest technique weight: weights are relative, and a phase's sum of up to 64 of them must
/// stay finite.
pub const MAX_WEIGHT: f64 = 1e12;

/// The JSON Schema (draft 2020-12) of scenario files, pretty-printed, with a trailing newline.
/// It is generated from the types the parser deserializes into, with a description on every
/// field; `validate` checks more (references between ids, for example) than a schema can.
pub fn json_schema() -> String {
    let mut text = serde_json::to_string_pretty(&raw::json_schema())
        .unwrap_or_else(|e| panic!("serialising a schema cannot fail: {e}"));
    text.push('\n');
    text
}

/// Whether `w` is an acceptable technique weight: finite, > 0 and at most [`MAX_WEIGHT`].
pub(crate) fn valid_weight(w: f64) -> bool {
    w > 0.0 && w <= MAX_WEIGHT
}

/// Trial count used when neither the file nor the command line gives one.
pub const DEFAULT_TRIALS: u64 = 100_000;
/// Seed used when neither the file nor the command line gives one.
pub const DEFAULT_SEED: u64 = 1;
/// The largest seed, in a file and on the command line alike: TOML integers are signed 64-bit,
/// so a file can hold 0 ..= 2^63 − 1 and no more.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// What a seed must be, in the words every refusal of one uses.
pub(crate) fn seed_rule() -> String {
    format!("seed must be an integer from 0 to {MAX_SEED}")
}

/// A seed given as text (`--seed`): an integer in 0 ..= [`MAX_SEED`], or the rule it breaks.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .ok()
        .filter(|&s| s <= MAX_SEED)
        .ok_or_else(seed_rule)
}

/// A probability, in [0, 1] by construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Probability(f64);

impl Probability {
    /// Certainty.
    pub const ONE: Probability = Probability(1.0);

    /// `Some` when `p` is a finite number in [0, 1].
    pub fn new(p: f64) -> Option<Probability> {
        (0.0..=1.0).contains(&p).then_some(Probability(p))
    }

    /// The value, in [0, 1].
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A fact about the defended estate, from `[environment]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact {
    /// A yes/no fact, usable in `requires`.
    Bool(bool),
    /// A number, usable as a probability where it lies in [0, 1] and as a technique's weight
    /// where it is > 0 and at most [`MAX_WEIGHT`].
    Number(f64),
}

/// A condition on a boolean fact (`"mfa_on_vpn"` or `"!mfa_on_vpn"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The fact's name.
    pub fact: String,
    /// The value the fact must have.
    pub holds: bool,
}

/// The adversary's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Adversary {
    /// Display name.
    pub name: String,
    /// Distinct techniques tried per phase before giving up (at least 1).
    pub max_attempts: u32,
}

/// One of the adversary's options at one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Technique {
    /// Unique id among techniques and controls.
    pub id: String,
    /// Display name (the id when the file gives none).
    pub name: String,
    /// The phase it serves.
    pub phase: Phase,
    /// MITRE ATT&CK technique id, such as `T1566.001`.
    pub attack: Option<String>,
    /// Relative preference, > 0 and at most [`MAX_WEIGHT`].
    pub weight: f64,
    /// The environment fact `weight` was read from, if any.
    pub weight_fact: Option<String>,
    /// Probability that an attempt succeeds before any control acts.
    pub success: Probability,
    /// The environment fact `success` was read from, if any.
    pub success_fact: Option<String>,
    /// Conditions on boolean facts.
    pub requires: Vec<Requirement>,
    /// Whether every requirement holds in this environment.
    pub viable: bool,
    /// Attack paths: indices into [`Scenario::techniques`] of techniques of earlier phases; the
    /// technique is viable in a campaign only if the campaign passed some earlier phase with one
    /// of them. Empty: no such condition. In file order, without repeats.
    pub after: Vec<usize>,
}

/// One defensive control.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// Unique id among techniques and controls.
    pub id: String,
    /// Display name (the id when the file gives none).
    pub name: String,
    /// Its course of action.
    pub action: CourseOfAction,
    /// The phases it acts in (no duplicates, in chain order).
    pub phases: Vec<Phase>,
    /// Indices into [`Scenario::techniques`] it is limited to; `None` for all in its phases.
    pub techniques: Option<Vec<usize>>,
    /// Probability it fires on an attempt (for degrade: the fraction of success it removes).
    pub effectiveness: Probability,
    /// The environment fact `effectiveness` was read from, if any.
    pub effectiveness_fact: Option<String>,
    /// For detect and deceive: probability the response evicts the adversary; 1 otherwise.
    pub response: Probability,
    /// The environment fact `response` was read from, if any.
    pub response_fact: Option<String>,
    /// Disabled controls are ignored by `run`.
    pub enabled: bool,
    /// Annual cost, if given.
    pub cost: Option<f64>,
}

impl Control {
    /// Whether this control acts on an attempt of `technique` (by index) in `phase`.
    pub fn applies_to(&self, phase: Phase, technique: usize) -> bool {
        self.phases.contains(&phase)
            && self
                .techniques
                .as_ref()
                .is_none_or(|only| only.contains(&technique))
    }
}

/// A validated scenario: the scenario as written (the baseline) and its variants.
///
/// Every field but [`variants`](Scenario::variants) describes the baseline. Each [`Variant`]
/// holds a complete scenario of its own, validated like the baseline, with the variant's changes
/// applied and facts re-resolved (`weight_fact`, `success_fact`, `effectiveness_fact`,
/// `response_fact`, viability from `requires`); a variant's own `variants` is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Default trial count.
    pub trials: u64,
    /// Default seed.
    pub seed: u64,
    /// Facts about the defended estate.
    pub environment: BTreeMap<String, Fact>,
    /// The adversary's profile (in a landscape, the first adversary's).
    pub adversary: Adversary,
    /// A threat landscape's adversaries (`[[adversaries]]`), in file order; empty for a file
    /// with `[adversary]`. See [`Scenario::parts`].
    pub adversaries: Vec<LandscapeAdversary>,
    /// Every technique, in file order (in a landscape, every adversary's in turn).
    pub techniques: Vec<Technique>,
    /// Every control, in file order.
    pub controls: Vec<Control>,
    /// The file's `[loss]`: attack frequency and impact, for annual-loss figures.
    pub loss: Option<LossModel>,
    /// The file's `[[variants]]`, in file order (empty in a variant's own scenario). The baseline
    /// is not among them: it is this scenario, and the name `baseline` is reserved for it.
    pub variants: Vec<Variant>,
}

/// A named variant of a scenario, from `[[variants]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's name: unique among variants, never `baseline`, and made of the characters
    /// ids may hold.
    pub name: String,
    /// The whole scenario with the variant's changes applied. Its `name` is the base scenario's
    /// name and its `variants` is empty.
    pub scenario: Scenario,
}

/// The name reserved for the scenario as written, which every comparison includes.
pub const BASELINE: &str = "baseline";

impl Scenario {
    /// Parses and validates scenario text. `path` is used only in messages.
    pub fn from_toml(source: &str, path: &str) -> Result<Scenario, Diagnostics> {
        validate::parse(source, path)
    }

    /// Whether some technique names an `after` path: a phase's outcome then depends on how the
    /// campaign passed the earlier phases.
    pub fn has_paths(&self) -> bool {
        self.techniques.iter().any(|t| !t.after.is_empty())
    }

    /// The techniques named in some `after` list, as bits of a campaign's path state.
    pub fn path_bits(&self) -> PathBits {
        PathBits::new(&self.techniques)
    }

    /// Techniques of one phase, with their indices, in file order.
    pub fn techniques_in(&self, phase: Phase) -> impl Iterator<Item = (usize, &Technique)> {
        self.techniques
            .iter()
            .enumerate()
            .filter(move |(_, t)| t.phase == phase)
    }
}

/// Most distinct techniques all `after` lists of a file may name together: a campaign's path
/// state is a 64-bit set of them.
pub const MAX_PATH_TECHNIQUES: usize = 64;

/// A campaign's path state as bits: which of the techniques some `after` list names it passed a
/// phase with. Bit `k` stands for the `k`-th such technique in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathBits {
    /// Per technique: its bit in the state, if some `after` list names it.
    pub bit: Vec<Option<u64>>,
    /// Per technique: the bits of its `after` list (0 when it has none).
    pub after: Vec<u64>,
    /// Per phase: the bits that the `after` lists of that phase's and later phases' techniques
    /// name, i.e. what of the state entering the phase still matters.
    pub live: [u64; crate::phase::N_PHASES],
}

impl PathBits {
    fn new(techniques: &[Technique]) -> PathBits {
        let mut named = vec![false; techniques.len()];
        for t in techniques {
            for &i in &t.after {
                named[i] = true;
            }
        }
        let mut next = 0u32;
        let bit: Vec<Option<u64>> = (named.iter())
            .map(|&n| {
                n.then(|| {
                    let b = 1u64 << next;
                    next += 1;
                    b
                })
            })
            .collect();
        let after: Vec<u64> = (techniques.iter())
            .map(|t| {
                t.after
                    .iter()
                    .map(|&i| bit[i].unwrap_or(0))
                    .fold(0, |a, b| a | b)
            })
            .collect();
        let mut live = [0u64; crate::phase::N_PHASES];
        for (t, mask) in techniques.iter().zip(&after) {
            for l in &mut live[..=t.phase.index()] {
                *l |= mask;
            }
        }
        PathBits { bit, after, live }
    }

    /// Whether technique `ti` may be tried by a campaign in path state `state`.
    #[inline]
    pub fn allows(&self, ti: usize, state: u64) -> bool {
        self.after[ti] == 0 || self.after[ti] & state != 0
    }

    /// The state after passing a phase with technique `ti` from `state`, keeping only the bits
    /// that the phases after `phase_idx` still read.
    #[inline]
    pub fn passed(&self, ti: usize, state: u64, phase_idx: usize) -> u64 {
        let keep = self.live.get(phase_idx + 1).copied().unwrap_or(0);
        (state | self.bit[ti].unwrap_or(0)) & keep
    }
}

/// A scenario file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read: missing, not a regular file, or larger than
    /// [`MAX_FILE_BYTES`].
    #[error("{0}")]
    Read(#[from] crate::input::ReadError),
    /// The file is not UTF-8.
    #[error("{path}:{line}:{column}: scenario file is not valid UTF-8")]
    NotUtf8 {
        /// The file as named.
        path: String,
        /// One-based line of the first invalid byte.
        line: usize,
        /// One-based column of the first invalid byte.
        column: usize,
    },
    /// The file has problems.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// A loaded scenario with the exact text it came from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The file as the user named it.
    pub path: String,
    /// The file's bytes.
    pub source: String,
    /// The validated scenario.
    pub scenario: Scenario,
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, LoadError> {
    let shown = path.display().to_string();
    let bytes = crate::input::read(path, crate::input::SCENARIO)?;
    let source = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]);
        let line = text.matches('\n').count() + 1;
        let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        LoadError::NotUtf8 {
            path: shown.clone(),
            line,
            column,
        }
    })?;
    let scenario = Scenario::from_toml(&source, &shown).map_err(LoadError::Invalid)?;
    Ok(LoadedScenario {
        path: shown,
        source,
        scenario,
    })
}
