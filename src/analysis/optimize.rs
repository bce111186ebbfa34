//! The best portfolio of controls within a budget: every subset of the candidate controls (those
//! with a `cost`) judged on the same trials, and the Pareto frontier of annual cost against the
//! objective: the expected annual loss when the scenario has `[loss]`, else the completion rate.
//!
//! Sharing the work. A trial completes exactly when it passes all seven phases, and whether it
//! passes phase p depends only on its key, the phase and the controls acting in p. So for each
//! block of trials and each phase p, the trials that pass p are computed once per subset of the
//! candidates acting in p (2^|C_p| bitsets, each a bit per trial), and a portfolio's completed
//! trials are the AND of one bitset per phase: seven word-wise ANDs instead of a simulation.
//! Blocks are processed in trial order, and within a block the portfolios in parallel, each
//! with its own [`PortfolioAccumulator`]; so every accumulator sees the same blocks in the same
//! order whatever the thread count, and the results are the same bits.
//!
//! Money. With `[loss]` the blocks are the run's year-aligned work units
//! ([`crate::sim::years::YearLayout::units`]), so each block closes its own years. Per block, once for
//! all portfolios, [`BlockYears`] holds each trial's year and the impact of every trial that
//! completes under some portfolio; a portfolio's [`PortfolioTally`] walks the set bits of its
//! completed trials, sums their impacts per year and keeps the count, Σ and Σ² of its annual
//! losses ([`LossSums`]): the integers a run of that portfolio counts, so its expected annual
//! loss and interval are the run's to the last bit. [`Problem::paired`] sums the year-by-year
//! differences of two portfolios the same way, from the trials completed under one of them only.
//!
//! Search. Up to [`MAX_EXHAUSTIVE`] candidates every portfolio is evaluated. Past that (or when
//! asked) a heuristic. First, starting portfolios: greedy by marginal return (repeatedly add the
//! candidate with the largest drop in the objective per unit of cost that still fits the
//! budget, until none lowers it) from the empty portfolio and from each single candidate, the
//! same greedy by the drop alone from the empty portfolio, greedy removal (from every candidate,
//! drop the one that worsens the objective least per unit of cost saved until the budget is
//! met), and the scenario as written. Then local search from each: among the portfolios within
//! the budget that differ by adding or dropping one candidate, swapping one for one, two for one
//! or one for two, move to the one with the lowest objective (then the cheapest) while it
//! improves. Every portfolio it evaluates is kept, including the single additions above the
//! budget it looks at, from which the next better portfolio is taken. When the trials fit in one
//! block, the phase bitsets are computed once for the whole search.
//!
use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::analysis::arms::{Arm, exact_difference};
pub use crate::analysis::chains::{ChainTooLarge, ExactPhases};
use crate::analysis::frontier;
use crate::money::LossModel;
use crate::phase::{N_PHASES, Phase};
use crate::scenario::Scenario;
use crate::sim::engine::{self, Plan, Watch};
use crate::sim::rng::TrialStream;
use crate::sim::years::{WorkUnit, YearLayout};
use crate::sim::{Schedule, Session, Stopped};
use crate::stats::PairedTable;
use crate::stats::figures::Method;
use crate::stats::loss::{LossSums, PairedLoss, cube};

/// Most candidates for which every portfolio is evaluated (2^16 = 65,536 portfolios).
pub const MAX_EXHAUSTIVE: usize = 16;
/// Most candidates the heuristic accepts (a portfolio is a 64-bit mask).
pub const MAX_CANDIDATES: usize = 64;
/// Most candidates acting in one phase: the phase needs 2^k bitsets per block of trials.
pub const MAX_PHASE_CANDIDATES: usize = 12;

/// How the portfolios are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every portfolio.
    Exhaustive,
    /// Greedy by marginal return, then local search.
    Heuristic,
}

impl Search {
    /// The label in the terminal.
    pub const fn id(self) -> &'static str {
        match self {
            Search::Exhaustive => "exhaustive",
            Search::Heuristic => "heuristic",
        }
    }
}

/// Why a scenario cannot be optimised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptimizeError {
    /// No control has a `cost`.
    #[error(
        "no control has a `cost`; optimize chooses among the controls with one (give each candidate an annual `cost`)"
    )]
    NoCandidates,
    /// Attack paths make a phase's outcome depend on the earlier phases: judged exactly only.
    #[error(
        "the scenario has attack paths (`after`): a phase's outcome then depends on which technique passed the earlier phases, and optimize judges such portfolios exactly; use --method exact or auto"
    )]
    Paths,
    /// A threat landscape's portfolios are judged exactly only.
    #[error(
        "the scenario is a threat landscape ([[adversaries]]), whose portfolios optimize judges exactly; use --method exact or auto"
    )]
    Landscape,
    /// Too many candidates act in one phase.
    #[error(
        "{count} candidate controls act in phase {phase}{} ({ids}); at most {max} per phase can be searched (each phase needs 2^k trial bitsets or tables)",
        adversary.as_deref().unwrap_or(""),
        max = MAX_PHASE_CANDIDATES
    )]
    PhaseTooLarge {
        /// The phase's id.
        phase: &'static str,
        /// In a threat landscape: " against adversary \"id\"".
        adversary: Option<String>,
        /// Its candidates.
        count: usize,
        /// Their ids, comma-separated.
        ids: String,
    },
    /// More candidates than exhaustive search takes.
    #[error(
        "{0} candidate controls (controls with a `cost`) make 2^{0} portfolios; exhaustive search takes at most {max}; use --search heuristic or auto",
        max = MAX_EXHAUSTIVE
    )]
    TooManyForExhaustive(usize),
    /// More candidates than any search takes.
    #[error(
        "{0} candidate controls (controls with a `cost`); at most {max} can be searched",
        max = MAX_CANDIDATES
    )]
    TooMany(usize),
}

/// One block of trials as a portfolio's accumulator sees it: trials
/// `start..start + n`, and with `[loss]` the block's simulated years (the block is then a
/// [`crate::sim::years::WorkUnit`], whole years, so it closes every year it holds).
#[derive(Debug, Clone, Copy)]
pub struct BlockTrials<'a> {
    /// The block's first trial.
    pub start: u64,
    /// Its number of trials.
    pub n: usize,
    /// Its years and the impact of each trial that may complete, with `[loss]`.
    pub years: Option<&'a BlockYears>,
}

/// A trial in no counted year (the tail after the last whole year).
const NO_YEAR: u32 = u32::MAX;

/// The simulated years of one block of trials, computed once per block and shared by every
/// portfolio: which year each trial belongs to and what it loses should it complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockYears {
    /// Years in the block.
    count: u64,
    /// Per trial of the block, the index of its year within the block ([`NO_YEAR`] for none).
    year_of: Vec<u32>,
    /// Per trial, its loss should it complete ([`LossModel::impact_of`]); filled only for trials
    /// that complete under at least one portfolio, 0 elsewhere.
    impact: Vec<u64>,
}

impl BlockYears {
    /// The years of `unit`, whose trial keys are `keys`; `may_complete` has a bit set for every
    /// trial that completes under some portfolio (only those trials' impacts are drawn).
    fn new(layout: &YearLayout, unit: &WorkUnit, keys: &[u64], may_complete: &[u64]) -> Self {
        let n = keys.len();
        let mut year_of = vec![NO_YEAR; n];
        let first = unit.trials.start;
        for (k, span) in layout.spans(unit).enumerate() {
            year_of[(span.start - first) as usize..(span.end - first) as usize].fill(k as u32);
        }
        let mut impact = vec![0u64; n];
        for_each_bit(may_complete, |t| {
            if year_of[t] != NO_YEAR {
                impact[t] = layout.model.impact_of(TrialStream::from_key(keys[t]));
            }
        });
        BlockYears {
            count: unit.years.end - unit.years.start,
            year_of,
            impact,
        }
    }

    /// The annual losses of the block's years when the trials of `completed` complete: Σ loss,
    /// Σ loss² and, with `CUBES`, Σ loss³ over its years (else 0; a year's loss is the sum of
    /// its completed trials' impacts; years without a completed trial add nothing). The walk
    /// over the set bits is branch-free: a year's loss is squared (and cubed) when the next
    /// completed trial falls in a later year.
    #[inline]
    fn loss_sums<const CUBES: bool>(&self, completed: &[u64]) -> (u128, u128, u128) {
        if self.count == 0 {
            return (0, 0, 0); // the tail: no year
        }
        // Every trial of a block with years belongs to one of them.
        let (mut year, mut loss) = (NO_YEAR, 0u64);
        let (mut sum, mut sum_sq, mut sum_cu) = (0u128, 0u128, 0u128);
        let close = |l: u64, sum_sq: &mut u128, sum_cu: &mut u128| {
            *sum_sq = sum_sq.saturating_add(u128::from(l) * u128::from(l));
            if CUBES {
                *sum_cu = sum_cu.saturating_add(cube(l));
            }
        };
        for_each_bit(completed, |t| {
            let y = self.year_of[t];
            let keep = 0u64.wrapping_sub(u64::from(y == year)); // all ones within the same year
            close(loss & !keep, &mut sum_sq, &mut sum_cu);
            let impact = self.impact[t];
            sum += u128::from(impact);
            loss = (loss & keep) + impact;
            year = y;
        });
        close(loss, &mut sum_sq, &mut sum_cu);
        (sum, sum_sq, sum_cu)
    }
}

/// Calls `f` with the index of every set bit of `bits`, in increasing order.
#[inline]
fn for_each_bit(bits: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in bits.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            f(w * 64 + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
}

/// What a portfolio's accumulator is told about each block of trials. The one place where a
/// portfolio's completed trials are seen: [`PortfolioTally`] counts them and, with `[loss]`,
/// sums their impacts into simulated years.
pub trait PortfolioAccumulator: Send {
    /// The trials of `block` were played; bit `t % 64` of `completed[t / 64]` is set when trial
    /// `block.start + t` completed under this portfolio (bits from `block.n` on are clear).
    /// Called once per block, blocks in trial order.
    fn record(&mut self, block: &BlockTrials<'_>, completed: &[u64]);
}

/// The number of completed trials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompletedCount(pub u64);

impl PortfolioAccumulator for CompletedCount {
    #[inline]
    fn record(&mut self, _block: &BlockTrials<'_>, completed: &[u64]) {
        self.0 += count_ones(completed);
    }
}

fn count_ones(bits: &[u64]) -> u64 {
    bits.iter().map(|w| u64::from(w.count_ones())).sum()
}

/// A portfolio's completed trials and, with `[loss]`, the count, Σ and Σ² of its annual losses
/// over the simulated years: the same integers a run of the portfolio gives (its
/// [`crate::stats::loss::LossTally::sums`]); with `CUBES`, Σ³ too (for the skewness-corrected
/// interval of reported figures; the search, which reads the sums only, skips the cubes, which
/// would double its cost). A few words per portfolio, whatever the trial count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioTally<const CUBES: bool = false> {
    /// Trials that completed.
    pub completed: u64,
    /// Annual losses (all zero without `[loss]`; `sum_cu` `u128::MAX` without `CUBES`).
    pub loss: LossSums,
}

impl<const CUBES: bool> Default for PortfolioTally<CUBES> {
    fn default() -> Self {
        PortfolioTally {
            completed: 0,
            loss: LossSums {
                sum_cu: if CUBES { 0 } else { u128::MAX },
                ..LossSums::default()
            },
        }
    }
}

impl<const CUBES: bool> PortfolioAccumulator for PortfolioTally<CUBES> {
    #[inline]
    fn record(&mut self, block: &BlockTrials<'_>, completed: &[u64]) {
        self.completed += count_ones(completed);
        if let Some(years) = block.years {
            let (sum, sum_sq, sum_cu) = years.loss_sums::<CUBES>(completed);
            self.loss.add_years(years.count, sum, sum_sq, sum_cu);
        }
    }
}

/// A scenario prepared for the search: its candidates and, per phase, one plan for each subset
/// of the candidates acting in it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The scenario as written.
    scenario: Scenario,
    /// Scenario indices of the candidates, in file order; bit `k` of a portfolio is candidate `k`.
    candidates: Vec<usize>,
    /// Per phase: the candidates (positions in `candidates`) acting in it.
    members: [Vec<usize>; N_PHASES],
    /// Per phase: `plans[p][s]` has the non-candidates as written and, of the candidates, exactly
    /// those of subset `s` of `members[p]` enabled (bit `j` of `s` is `members[p][j]`).
    plans: [Vec<Plan>; N_PHASES],
    /// Whether `plans` are compiled: one adversary without attack paths.
    sampled: bool,
}

/// Per phase, the candidates (positions in `candidates`) acting in it: those that apply to one
/// of the phase's viable techniques.
fn members_of(s: &Scenario, candidates: &[usize]) -> [Vec<usize>; N_PHASES] {
    Phase::ALL.map(|phase| {
        (candidates.iter().enumerate())
            .filter(|&(_, &ci)| {
                let c = &s.controls[ci];
                (s.techniques_in(phase)).any(|(ti, t)| t.viable && c.applies_to(phase, ti))
            })
            .map(|(k, _)| k)
            .collect::<Vec<usize>>()
    })
}

impl Problem {
    /// Finds the candidates and, where trials can be judged phase by phase (one adversary, no
    /// attack paths), compiles the per-phase plans.
    pub fn new(s: &Scenario) -> Result<Problem, OptimizeError> {
        let candidates: Vec<usize> = (s.controls.iter().enumerate())
            .filter(|(_, c)| c.cost.is_some())
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            return Err(OptimizeError::NoCandidates);
        }
        if candidates.len() > MAX_CANDIDATES {
            return Err(OptimizeError::TooMany(candidates.len()));
        }
        let sampled = !s.has_paths() && !s.is_landscape();
        let members = members_of(s, &candidates);
        let parts = s.parts();
        let judged: Vec<(Option<&str>, [Vec<usize>; N_PHASES])> = if s.is_landscape() {
            (parts.iter())
                .map(|p| (Some(p.id.as_str()), members_of(&p.scenario, &candidates)))
                .collect()
        } else {
            vec![(None, members.clone())]
        };
        for (adversary, members) in &judged {
            for (phase, m) in Phase::ALL.iter().zip(members) {
                if m.len() > MAX_PHASE_CANDIDATES {
                    let ids: Vec<&str> = m
                        .iter()
                        .map(|&k| s.controls[candidates[k]].id.as_str())
                        .collect();
                    return Err(OptimizeError::PhaseTooLarge {
                        phase: phase.id(),
                        adversary: adversary.map(|a| format!(" against adversary \"{a}\"")),
                        count: m.len(),
                        ids: ids.join(", "),
                    });
                }
            }
        }
        let mut problem = Problem {
            scenario: s.clone(),
            candidates,
            members,
            plans: Default::default(),
            sampled,
        };
        problem.scenario.variants.clear();
        if !sampled {
            return Ok(problem);
        }
        for p in 0..N_PHASES {
            let m = &problem.members[p];
            let plans: Vec<Plan> = (0..1u64 << m.len())
                .map(|sub| {
                    let mut mask = 0u64;
                    for (j, &k) in m.iter().enumerate() {
                        mask |= ((sub >> j) & 1) << k;
                    }
                    Plan::new(&problem.apply(mask))
                })
                .collect();
            problem.plans[p] = plans;
        }
        Ok(problem)
    }

    /// Whether portfolios can be judged on trials (`Err`: why not, for a threat landscape or
    /// a file with attack paths, whose portfolios are judged exactly).
    pub fn monte_carlo(&self) -> Result<(), OptimizeError> {
        match (self.sampled, self.scenario.is_landscape()) {
            (true, _) => Ok(()),
            (false, true) => Err(OptimizeError::Landscape),
            (false, false) => Err(OptimizeError::Paths),
        }
    }

    /// Whether the file has attack paths (`after`).
    pub fn has_paths(&self) -> bool {
        self.scenario.has_paths()
    }

    /// Whether the file is a threat landscape: the objective is then the expected successful
    /// attacks a year (or the landscape's expected annual loss), not one completion rate.
    pub fn landscape(&self) -> bool {
        self.scenario.is_landscape()
    }

    /// Per phase, the number of candidates acting in it (a candidate acts in a phase when it
    /// applies to one of the phase's viable techniques).
    pub fn phase_candidates(&self) -> [usize; N_PHASES] {
        std::array::from_fn(|p| self.members[p].len())
    }

    /// Phase plays per trial: Σ over phases of 2^(candidates acting in the phase).
    pub fn phase_plays(&self) -> usize {
        self.plans.iter().map(Vec::len).sum()
    }

    /// Number of candidates.
    pub fn n_candidates(&self) -> usize {
        self.candidates.len()
    }

    /// The candidates' ids, in file order (bit order of a portfolio).
    pub fn candidate_ids(&self) -> Vec<&str> {
        (self.candidates.iter())
            .map(|&ci| self.scenario.controls[ci].id.as_str())
            .collect()
    }

    /// The candidates' names as the scenario gives them (empty where it gives none), in file
    /// order.
    pub fn candidate_names(&self) -> Vec<&str> {
        (self.candidates.iter())
            .map(|&ci| self.scenario.controls[ci].name.as_str())
            .collect()
    }

    /// Candidate `k`'s annual cost.
    pub fn candidate_cost(&self, k: usize) -> f64 {
        self.scenario.controls[self.candidates[k]]
            .cost
            .unwrap_or(0.0)
    }

    /// The portfolio of the scenario as written: its enabled candidates.
    pub fn as_written(&self) -> u64 {
        (self.candidates.iter().enumerate())
            .filter(|&(_, &ci)| self.scenario.controls[ci].enabled)
            .fold(0, |m, (k, _)| m | 1 << k)
    }

    /// The scenario with exactly the candidates of `portfolio` enabled and every other control as
    /// written.
    pub fn apply(&self, portfolio: u64) -> Scenario {
        let mut s = self.scenario.clone();
        for (k, &ci) in self.candidates.iter().enumerate() {
            s.controls[ci].enabled = portfolio >> k & 1 == 1;
        }
        s
    }

    /// Annual cost of a portfolio: the sum of its candidates' costs (controls without a cost add
    /// nothing), as `compare::annual_cost` of [`Problem::apply`] gives it.
    pub fn cost(&self, portfolio: u64) -> f64 {
        (0..self.candidates.len())
            .filter(|k| portfolio >> k & 1 == 1)
            .map(|k| self.candidate_cost(k))
            .sum::<f64>()
            + 0.0
    }

    /// The ids of a portfolio's candidates, in file order.
    pub fn ids(&self, portfolio: u64) -> Vec<&str> {
        (self.candidate_ids().into_iter().enumerate())
            .filter(|&(k, _)| portfolio >> k & 1 == 1)
            .map(|(_, id)| id)
            .collect()
    }

    /// Which per-phase plan a portfolio uses at phase `p`.
    #[inline]
    fn subset(&self, p: usize, portfolio: u64) -> usize {
        (self.members[p].iter().enumerate())
            .fold(0, |s, (j, &k)| s | ((portfolio >> k & 1) as usize) << j)
    }

    /// Every adversary's chain tabulated for every portfolio ([`ExactPhases`]): per phase,
    /// per subset of the candidates acting in it and per path state it can be entered in,
    /// where the passing campaigns go; shared by every portfolio. `Err` when a phase has too
    /// many sets of tried techniques or path states to enumerate.
    pub fn exact_phases(&self) -> Result<ExactPhases, ChainTooLarge> {
        ExactPhases::new(&self.scenario, &self.candidates, |part| {
            members_of(part, &self.candidates)
        })
    }

    /// Each portfolio evaluated exactly from `phases`: its completion probability (the chain
    /// of its phases, the same bits as [`crate::sim::exact::evaluate`] of [`Problem::apply`]; a landscape's
    /// expected successful attacks a year) and, with `[loss]`, its expected annual loss.
    pub fn exact_portfolios(&self, phases: &ExactPhases, masks: &[u64]) -> Vec<Portfolio> {
        (masks.par_iter())
            .map_init(
                || phases.scratch(),
                |scratch, &mask| {
                    let (completion, ale) = phases.value(mask, scratch);
                    Portfolio {
                        mask,
                        cost: self.cost(mask),
                        evaluation: Evaluation::Exact { completion, ale },
                        on_frontier: false,
                    }
                },
            )
            .collect()
    }

    /// The scenario's `[loss]`, if any.
    pub fn loss_model(&self) -> Option<&LossModel> {
        self.scenario.loss.as_ref()
    }

    /// Plays trials `0..trials` of a run with `seed` for every portfolio in `portfolios`, and
    /// returns one accumulator per portfolio (in the same order), each made by `fresh` and fed
    /// every block of trials in order. Without `[loss]` the blocks are chunks of
    /// [`CHUNK_TRIALS`]; with it they are the run's year-aligned work units
    /// ([`YearLayout::units`]), each with its [`BlockYears`]. `None` when `watch` asked to stop.
    /// Runs on the current rayon pool; the result does not depend on its size.
    pub fn evaluate<A: PortfolioAccumulator>(
        &self,
        seed: u64,
        trials: u64,
        portfolios: &[u64],
        fresh: impl Fn() -> A,
        watch: Watch<'_>,
    ) -> Option<Vec<A>> {
        self.evaluate_cached(seed, trials, portfolios, fresh, watch, &mut None)
    }

    /// [`Problem::evaluate`], keeping the phase bitsets (and the block's years) in `cache` when
    /// the trials fit in one block, so that later calls with the same seed and trials skip
    /// playing the phases (memory stays that of one block).
    fn evaluate_cached<A: PortfolioAccumulator>(
        &self,
        seed: u64,
        trials: u64,
        portfolios: &[u64],
        fresh: impl Fn() -> A,
        watch: Watch<'_>,
        cache: &mut Option<Cached>,
    ) -> Option<Vec<A>> {
        let mut accs: Vec<A> = portfolios.iter().map(|_| fresh()).collect();
        let subsets: Vec<[usize; N_PHASES]> = portfolios
            .iter()
            .map(|&m| std::array::from_fn(|p| self.subset(p, m)))
            .collect();
        self.blocks(seed, trials, watch, cache, |block| {
            let trials = block.trials();
            accs.par_iter_mut()
                .zip(&subsets)
                .with_min_len(64)
                .for_each_init(
                    || vec![0u64; block.used],
                    |completed, (acc, sub)| {
                        block.completed(sub, completed);
                        acc.record(&trials, completed);
                    },
                );
        })?;
        Some(accs)
    }

    /// Plays trials `0..trials` block by block and calls `each` with every block's phase bitsets,
    /// blocks in trial order. `None` when `watch` asked to stop.
    fn blocks(
        &self,
        seed: u64,
        trials: u64,
        watch: Watch<'_>,
        cache: &mut Option<Cached>,
        mut each: impl FnMut(&Block<'_>),
    ) -> Option<()> {
        let schedule = Schedule::new(self.loss_model(), seed, trials, None);
        let layout = schedule.years();
        let mut units = schedule.units(watch)?;
        // The first two units tell whether the run is one block (whose bitsets a search keeps).
        let first = units.next();
        let second = units.next();
        let single = second.is_none();
        let mut units = first.into_iter().chain(second).chain(units);
        // One job per (phase, subset): its bitset is `bits[offset[p] + s]`.
        let jobs: Vec<(usize, usize)> = (0..N_PHASES)
            .flat_map(|p| (0..self.plans[p].len()).map(move |s| (p, s)))
            .collect();
        let mut offset = [0usize; N_PHASES];
        for p in 1..N_PHASES {
            offset[p] = offset[p - 1] + self.plans[p - 1].len();
        }
        let cached = single && cache.is_some();
        // Buffers grow to the longest unit seen (units of whole years vary in length).
        let mut keys = Vec::new();
        let Cached {
            mut bits,
            mut words,
            mut years,
        } = match cache.take() {
            Some(c) if single => c,
            _ => Cached {
                bits: Vec::new(),
                words: 0,
                years: None,
            },
        };
        loop {
            if watch.stopped() {
                return None;
            }
            let Some(unit) = units.next() else {
                break;
            };
            let (start, n) = (
                unit.trials.start,
                (unit.trials.end - unit.trials.start) as usize,
            );
            if !cached && n.div_ceil(64) > words {
                words = n.div_ceil(64);
                bits = vec![0u64; jobs.len() * words];
            }
            if !cached && n > keys.len() {
                keys.resize(n, 0);
            }
            let used = n.div_ceil(64);
            if !cached {
                let keys = &mut keys[..n];
                engine::trial_keys(seed, start, keys);
                bits.par_chunks_mut(words)
                    .zip(jobs.par_iter())
                    .for_each(|(out, &(p, s))| {
                        engine::play_phase(&self.plans[p][s], p, keys, &mut out[..used]);
                    });
                years = layout.as_ref().map(|l| {
                    // The trials that complete under some portfolio: per phase, those passing
                    // under any subset; then the AND over phases.
                    let mut may = vec![u64::MAX; used];
                    for (plans, &first) in self.plans.iter().zip(&offset) {
                        let mut any = vec![0u64; used];
                        for s in 0..plans.len() {
                            let at = (first + s) * words;
                            for (a, b) in any.iter_mut().zip(&bits[at..at + used]) {
                                *a |= b;
                            }
                        }
                        for (m, a) in may.iter_mut().zip(&any) {
                            *m &= a;
                        }
                    }
                    BlockYears::new(l, &unit, keys, &may)
                });
            }
            each(&Block {
                bits: &bits,
                offset,
                words,
                used,
                start,
                n,
                years: years.as_ref(),
            });
            watch.finished(n as u64);
        }
        if single {
            *cache = Some(Cached { bits, words, years });
        }
        Some(())
    }

    /// For each pair of portfolios (first, second), over trials `0..trials`: the paired 2×2
    /// table of "completed", from which [`PairedTable::difference`] gives first − second with its
    /// paired interval, and with `[loss]` the year-by-year differences of annual loss, first −
    /// second (a [`PairedLoss`] with the first as baseline, whose `reduction` is then first −
    /// second). `None` when `watch` asked to stop.
    pub fn paired(
        &self,
        seed: u64,
        trials: u64,
        pairs: &[(u64, u64)],
        watch: Watch<'_>,
    ) -> Option<Vec<PairedPortfolios>> {
        let with_loss = self.loss_model().is_some();
        let mut out = vec![
            PairedPortfolios {
                completion: PairedTable::default(),
                loss: with_loss.then(PairedLoss::default),
            };
            pairs.len()
        ];
        let sub = |m: u64| -> [usize; N_PHASES] { std::array::from_fn(|p| self.subset(p, m)) };
        let subsets: Vec<_> = pairs.iter().map(|&(a, b)| (sub(a), sub(b))).collect();
        self.blocks(seed, trials, watch, &mut None, |block| {
            let (mut a, mut b) = (vec![0u64; block.used], vec![0u64; block.used]);
            let mut first_only = vec![0u64; block.used];
            for (o, (sa, sb)) in out.iter_mut().zip(&subsets) {
                block.completed(sa, &mut a);
                block.completed(sb, &mut b);
                let count = |f: &dyn Fn(u64, u64) -> u64| -> u64 {
                    a.iter()
                        .zip(&b)
                        .map(|(&x, &y)| u64::from(f(x, y).count_ones()))
                        .sum()
                };
                let both = count(&|x, y| x & y);
                let only_a = count(&|x, y| x & !y);
                let only_b = count(&|x, y| !x & y);
                let t = &mut o.completion;
                t.both += both;
                t.first_only += only_a;
                t.second_only += only_b;
                t.neither += block.n as u64 - both - only_a - only_b;
                if let (Some(years), Some(loss)) = (block.years, o.loss.as_mut()) {
                    // Trials completed under both lose the same amount: only those completed
                    // under one of the two make a difference.
                    for ((f, &x), &y) in first_only.iter_mut().zip(&a).zip(&b) {
                        *f = x & !y;
                    }
                    let either: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| x ^ y).collect();
                    let (mut year, mut d, mut closed) = (NO_YEAR, 0i128, 0u64);
                    for_each_bit(&either, |t| {
                        let y = years.year_of[t];
                        if y == NO_YEAR {
                            return;
                        }
                        if y != year {
                            if year != NO_YEAR {
                                loss.add_difference(d);
                                closed += 1;
                            }
                            (year, d) = (y, 0);
                        }
                        let l = i128::from(years.impact[t]);
                        d += if first_only[t / 64] >> (t % 64) & 1 == 1 {
                            l
                        } else {
                            -l
                        };
                    });
                    if year != NO_YEAR {
                        loss.add_difference(d);
                        closed += 1;
                    }
                    loss.years += years.count - closed;
                }
            }
        })?;
        Some(out)
    }

    /// Completed trials of each portfolio.
    pub fn completed(
        &self,
        seed: u64,
        trials: u64,
        portfolios: &[u64],
        watch: Watch<'_>,
    ) -> Option<Vec<u64>> {
        let accs = self.evaluate(seed, trials, portfolios, CompletedCount::default, watch)?;
        Some(accs.into_iter().map(|c| c.0).collect())
    }

    /// Each portfolio as evaluated: its cost, completed trials and, with `[loss]`, annual losses.
    pub fn portfolios(
        &self,
        seed: u64,
        trials: u64,
        masks: &[u64],
        watch: Watch<'_>,
    ) -> Option<Vec<Portfolio>> {
        self.portfolios_cached::<false>(seed, trials, masks, watch, &mut None)
    }

    /// [`Self::portfolios`] with the sums of cubes of their annual losses, for figures that are
    /// reported: their ALE intervals are skewness-corrected as a run's are.
    pub fn reported_portfolios(
        &self,
        seed: u64,
        trials: u64,
        masks: &[u64],
        watch: Watch<'_>,
    ) -> Option<Vec<Portfolio>> {
        self.portfolios_cached::<true>(seed, trials, masks, watch, &mut None)
    }

    fn portfolios_cached<const CUBES: bool>(
        &self,
        seed: u64,
        trials: u64,
        masks: &[u64],
        watch: Watch<'_>,
        cache: &mut Option<Cached>,
    ) -> Option<Vec<Portfolio>> {
        let accs = self.evaluate_cached(
            seed,
            trials,
            masks,
            PortfolioTally::<CUBES>::default,
            watch,
            cache,
        )?;
        let with_loss = self.loss_model().is_some();
        Some(
            masks
                .iter()
                .zip(accs)
                .map(|(&mask, t)| {
                    Portfolio::sampled(
                        mask,
                        self.cost(mask),
                        t.completed,
                        with_loss.then_some(t.loss),
                    )
                })
                .collect(),
        )
    }
}

/// One pair of portfolios judged on the same trials (see [`Problem::paired`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairedPortfolios {
    /// "Completed" under the first and under the second, trial by trial.
    pub completion: PairedTable,
    /// With `[loss]`: annual loss of the first − the second, year by year.
    pub loss: Option<PairedLoss>,
}

/// What a search keeps between evaluations when the trials fit in one block.
struct Cached {
    bits: Vec<u64>,
    words: usize,
    years: Option<BlockYears>,
}

/// The phase bitsets of one block of trials.
struct Block<'a> {
    /// `bits[(offset[p] + s) * words..][..used]`: the trials passing phase p under subset s.
    bits: &'a [u64],
    offset: [usize; N_PHASES],
    words: usize,
    used: usize,
    /// The block's first trial and its number of trials.
    start: u64,
    n: usize,
    /// With `[loss]`: the block's years.
    years: Option<&'a BlockYears>,
}

impl Block<'_> {
    /// The block as its accumulators see it.
    fn trials(&self) -> BlockTrials<'_> {
        BlockTrials {
            start: self.start,
            n: self.n,
            years: self.years,
        }
    }

    /// Writes into `out` the trials completing under the portfolio whose per-phase subsets are
    /// `sub`: the AND of one bitset per phase.
    #[inline]
    fn completed(&self, sub: &[usize; N_PHASES], out: &mut [u64]) {
        let at = |p: usize| {
            let i = (self.offset[p] + sub[p]) * self.words;
            &self.bits[i..i + self.used]
        };
        out.copy_from_slice(at(0));
        for p in 1..N_PHASES {
            for (c, b) in out.iter_mut().zip(at(p)) {
                *c &= b;
            }
        }
    }
}

/// One evaluated portfolio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Portfolio {
    /// Bit `k` set when candidate `k` (file order among candidates) is in it.
    pub mask: u64,
    /// Its annual cost.
    pub cost: f64,
    /// Its figures, counted on trials or exact.
    pub evaluation: Evaluation,
    /// Whether no other evaluated portfolio is at most as costly and at most as bad by the
    /// objective, one of the two strictly.
    pub on_frontier: bool,
}

/// A portfolio's figures, by the method that gave them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evaluation {
    /// Counted on the trials of a Monte Carlo run.
    Sampled {
        /// Trials that completed under it.
        completed: u64,
        /// With `[loss]`: its annual losses over the simulated years.
        loss: Option<LossSums>,
    },
    /// Computed by enumeration ([`Problem::exact_portfolios`]).
    Exact {
        /// The probability that a campaign completes: the product of its phases' pass
        /// probabilities.
        completion: f64,
        /// With `[loss]`: the expected annual loss, λ · p · E[impact].
        ale: Option<f64>,
    },
}

/// A portfolio's objective, lower is better. Every portfolio of one search has the same kind.
#[derive(Debug, Clone, Copy)]
pub enum Objective {
    /// Counted on trials: Σ annual loss in whole currency units, or completed trials.
    Counted(u128),
    /// Exact: the expected annual loss, or the completion probability.
    Exact(f64),
}

impl Objective {
    /// The objective as a number.
    pub fn value(self) -> f64 {
        match self {
            Objective::Counted(x) => x as f64,
            Objective::Exact(x) => x,
        }
    }

    /// How much lower `to` is than `self`; 0 when it is not lower.
    pub fn drop_to(self, to: Objective) -> f64 {
        match (self, to) {
            (Objective::Counted(a), Objective::Counted(b)) => a.saturating_sub(b) as f64,
            _ => (self.value() - to.value()).max(0.0),
        }
    }
}

impl Ord for Objective {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use Objective::{Counted, Exact};
        match (self, other) {
            (Counted(a), Counted(b)) => a.cmp(b),
            (Exact(a), Exact(b)) => a.total_cmp(b),
            (Counted(_), Exact(_)) => std::cmp::Ordering::Less,
            (Exact(_), Counted(_)) => std::cmp::Ordering::Greater,
        }
    }
}

impl PartialOrd for Objective {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Objective {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Objective {}

impl Portfolio {
    /// A portfolio counted on trials.
    pub fn sampled(mask: u64, cost: f64, completed: u64, loss: Option<LossSums>) -> Portfolio {
        Portfolio {
            mask,
            cost,
            evaluation: Evaluation::Sampled { completed, loss },
            on_frontier: false,
        }
    }

    /// The objective, lower is better. Counted: Σ annual loss with `[loss]` (the expected
    /// annual loss times the years, which all portfolios share), else the completed trials;
    /// without a whole simulated year in the trials, the completed trials. Exact: the expected
    /// annual loss with `[loss]`, else the completion probability.
    pub fn objective(&self) -> Objective {
        match self.evaluation {
            Evaluation::Sampled {
                loss: Some(l),
                completed: _,
            } if l.years > 0 => Objective::Counted(l.sum),
            Evaluation::Sampled { completed, .. } => Objective::Counted(u128::from(completed)),
            Evaluation::Exact { ale: Some(a), .. } => Objective::Exact(a),
            Evaluation::Exact { completion, .. } => Objective::Exact(completion),
        }
    }

    /// Whether the objective is the expected annual loss.
    pub fn by_loss(&self) -> bool {
        match self.evaluation {
            Evaluation::Sampled { loss, .. } => loss.is_some_and(|l| l.years > 0),
            Evaluation::Exact { ale, .. } => ale.is_some(),
        }
    }

    /// How its figures were obtained.
    pub fn method(&self) -> Method {
        match self.evaluation {
            Evaluation::Sampled { .. } => Method::MonteCarlo,
            Evaluation::Exact { .. } => Method::Exact,
        }
    }

    /// The completed trials and annual losses, when counted on trials.
    pub fn counted(&self) -> Option<(u64, Option<LossSums>)> {
        match self.evaluation {
            Evaluation::Sampled { completed, loss } => Some((completed, loss)),
            Evaluation::Exact { .. } => None,
        }
    }

    /// The completion rate: completed trials / `trials` (counted), or the probability (exact).
    pub fn completion_rate(&self, trials: u64) -> f64 {
        match self.evaluation {
            Evaluation::Sampled { completed, .. } => completed as f64 / trials.max(1) as f64,
            Evaluation::Exact { completion, .. } => completion,
        }
    }

    /// With `[loss]`: the expected annual loss and its 95 % interval (exact: the value three
    /// times); `None` without `[loss]` or, counted, without a whole simulated year.
    pub fn ale(&self) -> Option<(f64, f64, f64)> {
        match self.evaluation {
            Evaluation::Sampled { loss, .. } => loss.filter(|l| l.years > 0).map(|l| {
                let (lo, hi) = l.corrected_ci();
                (l.ale(), lo, hi)
            }),
            Evaluation::Exact { ale, .. } => ale.map(|a| (a, a, a)),
        }
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// How the portfolios were searched.
    pub search: Search,
    /// Trials each portfolio was judged on.
    pub trials: u64,
    /// The evaluated portfolios, by annual cost, then objective, then mask.
    pub portfolios: Vec<Portfolio>,
    /// Index in `portfolios` of the best within the budget: lowest objective, then cheapest,
    /// then smallest mask.
    pub best: usize,
    /// Index of the cheapest evaluated portfolio above the budget with a lower objective than
    /// the best (the lowest among equally cheap), if any.
    pub next_better: Option<usize>,
}

impl Optimum {
    /// Orders the evaluated portfolios, marks the frontier, and picks the best within `budget`
    /// and the next better above it.
    pub fn new(search: Search, trials: u64, mut portfolios: Vec<Portfolio>, budget: f64) -> Self {
        portfolios.sort_by(|a, b| {
            (a.cost.total_cmp(&b.cost))
                .then(a.objective().cmp(&b.objective()))
                .then(a.mask.cmp(&b.mask))
        });
        mark_frontier(&mut portfolios);
        let best = (0..portfolios.len())
            .filter(|&i| portfolios[i].cost <= budget)
            .min_by(|&i, &j| {
                let (a, b) = (&portfolios[i], &portfolios[j]);
                (a.objective().cmp(&b.objective()))
                    .then(a.cost.total_cmp(&b.cost))
                    .then(a.mask.cmp(&b.mask))
            })
            .expect("the empty portfolio costs nothing and is always evaluated");
        let next_better = (0..portfolios.len()).find(|&i| {
            portfolios[i].cost > budget && portfolios[i].objective() < portfolios[best].objective()
        });
        Optimum {
            search,
            trials,
            portfolios,
            best,
            next_better,
        }
    }

    /// Whether the objective is the expected annual loss (a `[loss]` table and at least one
    /// whole simulated year).
    pub fn by_loss(&self) -> bool {
        self.portfolios.first().is_some_and(Portfolio::by_loss)
    }

    /// How the portfolios' figures were obtained (every portfolio of a search alike).
    pub fn method(&self) -> Method {
        self.portfolios
            .first()
            .map_or(Method::MonteCarlo, Portfolio::method)
    }
}

/// The bit flipped in a run's seed to derive the seed of its check trials: the figures of the
/// chosen portfolios are re-evaluated on the trials (and years) of `seed ^ 2^62`, which lies in
/// the seed range 0..2^63 − 1 whenever `seed` does. Trial keys and year streams are keyed by the
/// seed, so the check trials share nothing with the trials the choice was made on.
pub const CHECK_SEED_BIT: u64 = 1 << 62;

/// The seed of the independent trials that a Monte Carlo search's result is reported on.
pub fn check_seed(seed: u64) -> u64 {
    seed ^ CHECK_SEED_BIT
}

impl Optimum {
    /// The same choice (the same portfolios, best, next better and frontier marks, chosen on
    /// the trials it was searched on) with every portfolio's completed trials and annual losses
    /// re-evaluated on the trials of `seed`: figures free of the winner's curse when `seed`'s
    /// trials are independent of the search's. `None` when `watch` asks to stop.
    pub fn reevaluated(&self, problem: &Problem, seed: u64, watch: Watch<'_>) -> Option<Optimum> {
        let masks: Vec<u64> = self.portfolios.iter().map(|p| p.mask).collect();
        let fresh = problem.reported_portfolios(seed, self.trials, &masks, watch)?;
        let portfolios = (self.portfolios.iter().zip(fresh))
            .map(|(chosen, f)| Portfolio {
                on_frontier: chosen.on_frontier,
                ..f
            })
            .collect();
        Some(Optimum {
            portfolios,
            ..self.clone()
        })
    }
}

/// Marks the Pareto frontier of the portfolios (see [`frontier::pareto`]).
fn mark_frontier(portfolios: &mut [Portfolio]) {
    let points: Vec<(f64, Objective)> =
        portfolios.iter().map(|p| (p.cost, p.objective())).collect();
    for (p, on) in portfolios.iter_mut().zip(frontier::pareto(&points)) {
        p.on_frontier = on;
    }
}

/// Evaluates every portfolio of up to [`MAX_EXHAUSTIVE`] candidates.
pub fn exhaustive(
    problem: &Problem,
    seed: u64,
    trials: u64,
    budget: f64,
    watch: Watch<'_>,
) -> Result<Option<Optimum>, OptimizeError> {
    let n = problem.n_candidates();
    if n > MAX_EXHAUSTIVE {
        return Err(OptimizeError::TooManyForExhaustive(n));
    }
    let masks: Vec<u64> = (0..1u64 << n).collect();
    let Some(portfolios) = problem.portfolios(seed, trials, &masks, watch) else {
        return Ok(None);
    };
    Ok(Some(Optimum::new(
        Search::Exhaustive,
        trials,
        portfolios,
        budget,
    )))
}

/// The heuristic search (see the module documentation). Every portfolio it evaluates is kept,
/// including those above the budget that the search looked at.
pub fn heuristic(
    problem: &Problem,
    seed: u64,
    trials: u64,
    budget: f64,
    watch: Watch<'_>,
) -> Option<Optimum> {
    let mut cache = None;
    heuristic_with(problem, trials, budget, |masks| {
        problem.portfolios_cached::<false>(seed, trials, masks, watch, &mut cache)
    })
}

/// The heuristic search with the exact objective: every portfolio it looks at evaluated exactly
/// from `phases`.
pub fn heuristic_exact(problem: &Problem, phases: &ExactPhases, budget: f64) -> Optimum {
    heuristic_with(problem, 0, budget, |masks| {
        Some(problem.exact_portfolios(phases, masks))
    })
    .expect("exact evaluation is never stopped")
}

/// Every portfolio of up to [`MAX_EXHAUSTIVE`] candidates, evaluated exactly from `phases`.
pub fn exhaustive_exact(
    problem: &Problem,
    phases: &ExactPhases,
    budget: f64,
) -> Result<Optimum, OptimizeError> {
    let n = problem.n_candidates();
    if n > MAX_EXHAUSTIVE {
        return Err(OptimizeError::TooManyForExhaustive(n));
    }
    let masks: Vec<u64> = (0..1u64 << n).collect();
    let portfolios = problem.exact_portfolios(phases, &masks);
    Ok(Optimum::new(Search::Exhaustive, 0, portfolios, budget))
}

/// The heuristic search over portfolios evaluated by `evaluate` (`None`: asked to stop).
fn heuristic_with(
    problem: &Problem,
    trials: u64,
    budget: f64,
    mut evaluate: impl FnMut(&[u64]) -> Option<Vec<Portfolio>>,
) -> Option<Optimum> {
    let n = problem.n_candidates();
    let mut seen: BTreeMap<u64, Portfolio> = BTreeMap::new();
    let mut eval = |masks: Vec<u64>, seen: &mut BTreeMap<u64, Portfolio>| -> Option<()> {
        let mut fresh: Vec<u64> = masks
            .into_iter()
            .filter(|m| !seen.contains_key(m))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if !fresh.is_empty() {
            let evaluated = evaluate(&fresh)?;
            seen.extend(fresh.into_iter().zip(evaluated));
        }
        Some(())
    };
    let obj = |seen: &BTreeMap<u64, Portfolio>, m: u64| seen[&m].objective();
    let fits = |m: u64| problem.cost(m) <= budget;
    let bit = |k: usize| 1u64 << k;
    let as_written = problem.as_written();
    eval(vec![0, as_written], &mut seen)?;

    // Greedy additions, by marginal return (drop in the objective per unit of cost) from the
    // empty portfolio and from each single candidate, and by the drop alone from the empty
    // portfolio. The runs advance together: one evaluation per round.
    let mut runs: Vec<(u64, bool)> = std::iter::once((0, false))
        .chain(std::iter::once(0).chain((0..n).map(bit)).map(|m| (m, true)))
        .filter(|&(m, _)| fits(m))
        .collect();
    eval(runs.iter().map(|r| r.0).collect(), &mut seen)?;
    let mut active: Vec<bool> = vec![true; runs.len()];
    while active.contains(&true) {
        let adds_of = |current: u64| -> Vec<u64> {
            (0..n)
                .filter(|&k| current & bit(k) == 0 && fits(current | bit(k)))
                .map(|k| current | bit(k))
                .collect()
        };
        let all: Vec<u64> = (runs.iter().zip(&active))
            .filter(|(_, a)| **a)
            .flat_map(|(r, _)| adds_of(r.0))
            .collect();
        eval(all, &mut seen)?;
        for (run, live) in runs.iter_mut().zip(active.iter_mut()) {
            if !*live {
                continue;
            }
            let (current, per_cost) = *run;
            let base = obj(&seen, current);
            let gain = |m: u64| {
                let drop = base.drop_to(obj(&seen, m));
                let extra = problem.cost(m) - problem.cost(current);
                match (per_cost, extra > 0.0) {
                    (true, true) => drop / extra,
                    (true, false) => f64::INFINITY,
                    (false, _) => drop,
                }
            };
            let pick = adds_of(current)
                .into_iter()
                .filter(|&m| obj(&seen, m) < base)
                .max_by(|&a, &b| gain(a).total_cmp(&gain(b)).then(b.cmp(&a)));
            match pick {
                Some(m) => run.0 = m,
                None => *live = false,
            }
        }
    }
    let mut starts: Vec<u64> = runs.iter().map(|r| r.0).collect();
    // Greedy removals from every candidate until the budget is met, each time dropping the one
    // that worsens the objective least per unit of cost saved.
    let mut current = (0..n).fold(0u64, |m, k| m | bit(k));
    eval(vec![current], &mut seen)?;
    while !fits(current) {
        let drops: Vec<u64> = (0..n)
            .filter(|&k| current & bit(k) != 0 && problem.candidate_cost(k) > 0.0)
            .map(|k| current ^ bit(k))
            .collect();
        eval(drops.clone(), &mut seen)?;
        let base = obj(&seen, current).value();
        let loss =
            |m: u64| (obj(&seen, m).value() - base) / (problem.cost(current) - problem.cost(m));
        match drops
            .into_iter()
            .min_by(|&a, &b| loss(a).total_cmp(&loss(b)).then(a.cmp(&b)))
        {
            Some(m) => current = m,
            None => break,
        }
    }
    starts.push(current);
    if fits(as_written) {
        starts.push(as_written);
    }
    starts.retain(|&m| fits(m));
    starts.sort_unstable();
    starts.dedup();

    // Local search from each start.
    let better = |a: u64, b: u64, seen: &BTreeMap<u64, Portfolio>| {
        (obj(seen, a), problem.cost(a), a) < (obj(seen, b), problem.cost(b), b)
    };
    for mut here in starts {
        loop {
            let (inside, outside): (Vec<usize>, Vec<usize>) =
                (0..n).partition(|&k| here & bit(k) != 0);
            // Add (even above the budget, to look there) or drop one.
            let mut moves: Vec<u64> = (0..n).map(|k| here ^ bit(k)).collect();
            // Swap one for one, two for one, one for two (within the budget).
            for &k in &inside {
                for &j in &outside {
                    moves.push(here ^ bit(k) ^ bit(j));
                    for &i in outside.iter().filter(|&&i| i > j) {
                        moves.push(here ^ bit(k) ^ bit(j) ^ bit(i));
                    }
                    for &i in inside.iter().filter(|&&i| i > k) {
                        moves.push(here ^ bit(k) ^ bit(i) ^ bit(j));
                    }
                }
            }
            moves.retain(|&m| fits(m) || m & here == here);
            eval(moves.clone(), &mut seen)?;
            let step = moves
                .into_iter()
                .filter(|&m| fits(m))
                .reduce(|a, b| if better(b, a, &seen) { b } else { a });
            match step {
                Some(m) if better(m, here, &seen) => here = m,
                _ => break,
            }
        }
    }
    let portfolios = seen.into_values().collect();
    Some(Optimum::new(Search::Heuristic, trials, portfolios, budget))
}

/// Paired checks of a search's result, each on the same trials (and, with `[loss]`, the same
/// years) so that the differences are exact where nothing changed: each a difference with its
/// 95 % paired interval.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The scenario as written, with its figures on the checks' trials (or exact).
    pub as_written: Portfolio,
    /// Completion rate, next better − best.
    pub next_vs_best: Option<(f64, f64, f64)>,
    /// Completion rate, best − as written.
    pub best_vs_written: (f64, f64, f64),
    /// For each frontier point after the first (by cost), its completion rate − the previous
    /// point's.
    pub frontier_steps: Vec<(f64, f64, f64)>,
    /// When the objective is the expected annual loss: the same in money.
    pub money: Option<VerifiedMoney>,
}

/// [`Verified`] in expected annual loss, year by year.
#[derive(Debug, Clone)]
pub struct VerifiedMoney {
    /// Next better − best.
    pub next_vs_best: Option<(f64, f64, f64)>,
    /// Best − as written.
    pub best_vs_written: (f64, f64, f64),
    /// Each frontier point after the first − the previous frontier point.
    pub frontier_steps: Vec<(f64, f64, f64)>,
}

/// Plays the best portfolio, the scenario as written and the next better one on the same trials
/// in `session`, and each frontier point against the previous one; `Err` when the session was
/// asked to stop. Counts `2 × trials` finished trials in the session.
pub fn verify(
    problem: &Problem,
    optimum: &Optimum,
    session: &Session<'_>,
    seed: u64,
    trials: u64,
) -> Result<Verified, Stopped> {
    let best = optimum.portfolios[optimum.best];
    let next = optimum.next_better.map(|i| optimum.portfolios[i]);
    let written = problem.as_written();
    // The best is the reference: every arm's joint outcomes and annual losses are against it.
    let mut arms = vec![problem.apply(best.mask), problem.apply(written)];
    arms.extend(next.map(|p| problem.apply(p.mask)));
    let plans: Vec<Plan> = arms.iter().map(Plan::new).collect();
    let frontier: Vec<u64> = (optimum.portfolios.iter())
        .filter(|p| p.on_frontier)
        .map(|p| p.mask)
        .collect();
    let steps: Vec<(u64, u64)> = frontier.windows(2).map(|w| (w[1], w[0])).collect();
    let schedule = Schedule::new(problem.loss_model(), seed, trials, None);
    let results = session.play(&plans, &schedule)?;
    let step_tables = session.run(|watch| problem.paired(seed, trials, &steps, watch))?;
    // Arm i against the best: (arm, best).
    let table = |i: usize| {
        Arm {
            name: String::new(),
            scenario: &arms[i],
            tally: results[i].tally.clone(),
            joint: results[i].joint,
        }
        .completion_table()
    };
    let zero = (0.0, 0.0, 0.0);
    let negated = |(d, lo, hi): (f64, f64, f64)| (-d, -hi, -lo);
    let money = match (optimum.by_loss(), problem.loss_model()) {
        (true, Some(_)) => {
            // An arm's paired loss is best − arm, year by year.
            let loss = |i: usize| results.get(i).and_then(|r| r.loss.as_ref());
            let written_loss = loss(1).expect("the years of the scenario as written");
            Some(VerifiedMoney {
                next_vs_best: loss(2).map(|l| negated(l.paired.reduction())),
                best_vs_written: written_loss.paired.reduction(),
                frontier_steps: step_tables
                    .iter()
                    .map(|t| t.loss.map_or(zero, |l| l.reduction()))
                    .collect(),
            })
        }
        _ => None,
    };
    let written_loss = (results[1].loss.as_ref()).map(|l| l.tally.sums());
    let played = Portfolio::sampled(
        written,
        problem.cost(written),
        results[1].tally.completed,
        written_loss,
    );
    // The optimum's own row for the scenario as written, when it was evaluated on these trials
    // (a re-evaluated optimum is): the same counts, and the sum of cubes its interval reads.
    let same_trials = |p: &&Portfolio| match (p.counted(), played.counted()) {
        (Some((c, l)), Some((want_c, want_l))) => {
            c == want_c
                && l.map(|l| (l.years, l.sum, l.sum_sq))
                    == want_l.map(|l| (l.years, l.sum, l.sum_sq))
        }
        _ => false,
    };
    let as_written = (optimum.portfolios.iter())
        .filter(|p| p.mask == written)
        .find(same_trials)
        .copied()
        .unwrap_or(played);
    Ok(Verified {
        as_written,
        next_vs_best: next.map(|_| table(2).difference().unwrap_or(zero)),
        best_vs_written: table(1).reversed().difference().unwrap_or(zero),
        frontier_steps: step_tables
            .iter()
            .map(|t| t.completion.difference().unwrap_or(zero))
            .collect(),
        money,
    })
}

/// The checks of [`verify`] for an exact search: each difference exact (its interval the
/// value itself), from the exact figures of the portfolios involved.
pub fn verify_exact(problem: &Problem, phases: &ExactPhases, optimum: &Optimum) -> Verified {
    let best = optimum.portfolios[optimum.best];
    let next = optimum.next_better.map(|i| optimum.portfolios[i]);
    let written = problem.exact_portfolios(phases, &[problem.as_written()])[0];
    let exact = |d: f64| (d, d, d);
    let rate = |a: &Portfolio, b: &Portfolio| {
        exact(exact_difference(a.completion_rate(0), b.completion_rate(0)))
    };
    let ale = |a: &Portfolio, b: &Portfolio| {
        let value = |p: &Portfolio| p.ale().map_or(0.0, |(x, _, _)| x);
        exact(value(a) - value(b))
    };
    let frontier: Vec<&Portfolio> = (optimum.portfolios.iter())
        .filter(|p| p.on_frontier)
        .collect();
    let steps = |d: &dyn Fn(&Portfolio, &Portfolio) -> (f64, f64, f64)| -> Vec<_> {
        frontier.windows(2).map(|w| d(w[1], w[0])).collect()
    };
    Verified {
        as_written: written,
        next_vs_best: next.map(|n| rate(&n, &best)),
        best_vs_written: rate(&best, &written),
        frontier_steps: steps(&rate),
        money: optimum.by_loss().then(|| VerifiedMoney {
            next_vs_best: next.map(|n| ale(&n, &best)),
            best_vs_written: ale(&best, &written),
            frontier_steps: steps(&ale),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(mask: u64, cost: f64, completed: u64) -> Portfolio {
        Portfolio::sampled(mask, cost, completed, None)
    }

    #[test]
    fn frontier_keeps_only_undominated_points() {
        let o = Optimum::new(
            Search::Exhaustive,
            100,
            vec![
                p(0, 0.0, 50),
                p(1, 10.0, 40),
                p(2, 10.0, 45), // dominated by mask 1 (same cost, more completed)
                p(3, 20.0, 40), // dominated by mask 1 (dearer, same completed)
                p(4, 30.0, 10),
                p(5, 30.0, 10), // a tie with mask 4: neither dominates
            ],
            25.0,
        );
        let marks: Vec<(u64, bool)> = o
            .portfolios
            .iter()
            .map(|p| (p.mask, p.on_frontier))
            .collect();
        assert_eq!(
            marks,
            [
                (0, true),
                (1, true),
                (2, false),
                (3, false),
                (4, true),
                (5, true)
            ]
        );
        assert_eq!(o.portfolios[o.best].mask, 1);
        assert_eq!(o.portfolios[o.next_better.unwrap()].mask, 4);
    }

    /// A block of three years (2, 0 and 3 campaigns) and a tail-free walk: each year's loss is
    /// the sum of its completed trials' impacts, the sums those of `LossTally::add_year`.
    #[test]
    fn block_years_sum_impacts_per_year_like_a_loss_tally() {
        let years = BlockYears {
            count: 3,
            year_of: vec![0, 0, 2, 2, 2],
            impact: vec![10, 7, 1, 2, 4],
        };
        for (completed, losses) in [
            (0b11011u64, [17, 0, 6]),
            (0b00100, [0, 0, 1]),
            (0b00010, [7, 0, 0]),
            (0b00000, [0, 0, 0]),
            (0b11111, [17, 0, 7]),
        ] {
            let mut want = crate::stats::loss::LossTally::default();
            for l in losses {
                want.add_year(l);
            }
            let mut got = PortfolioTally::<true>::default();
            let block = BlockTrials {
                start: 0,
                n: 5,
                years: Some(&years),
            };
            got.record(&block, &[completed]);
            let cubes: u128 = losses.iter().map(|&l| u128::from(l).pow(3)).sum();
            let want = LossSums {
                sum_cu: cubes,
                ..want.sums()
            };
            assert_eq!(got.loss, want, "{completed:#b}");
            assert_eq!(got.completed, u64::from(completed.count_ones()));
        }
    }

    #[test]
    fn with_losses_the_objective_is_the_annual_loss_not_the_completions() {
        let with = |mask, cost, completed, sum| {
            let loss = LossSums {
                years: 10,
                sum,
                sum_sq: sum * sum,
                sum_cu: sum * sum * sum,
            };
            Portfolio::sampled(mask, cost, completed, Some(loss))
        };
        // Mask 1 completes fewer attacks, mask 2 loses less: mask 2 is the best.
        let o = Optimum::new(
            Search::Exhaustive,
            100,
            vec![
                with(0, 0.0, 50, 900),
                with(1, 10.0, 20, 800),
                with(2, 10.0, 30, 500),
            ],
            10.0,
        );
        assert!(o.by_loss());
        assert_eq!(o.portfolios[o.best].mask, 2);
        let marks: Vec<(u64, bool)> = (o.portfolios.iter())
            .map(|p| (p.mask, p.on_frontier))
            .collect();
        assert_eq!(marks, [(0, true), (2, true), (1, false)]);
    }

    #[test]
    fn best_prefers_the_cheaper_of_equal_objectives_and_none_above_when_nothing_is_better() {
        let o = Optimum::new(
            Search::Exhaustive,
            100,
            vec![p(0, 0.0, 50), p(1, 5.0, 20), p(2, 8.0, 20), p(3, 50.0, 20)],
            10.0,
        );
        assert_eq!(o.portfolios[o.best].mask, 1);
        assert_eq!(o.next_better, None);
    }
}
