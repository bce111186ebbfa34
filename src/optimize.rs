//! The best portfolio of controls within a budget: every subset of the candidate controls (those
//! with a `cost`) judged on the same trials, and the Pareto frontier of annual cost against the
//! objective (the completion rate).
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
//! Search. Up to [`MAX_EXHAUSTIVE`] candidates every portfolio is evaluated. Past that (or when
//! asked) a heuristic. First, starting portfolios: greedy by marginal return (repeatedly add the
//! candidate with the largest drop in completed trials per unit of cost that still fits the
//! budget, until none lowers the count), the same greedy by the drop alone, greedy removal (from
//! every candidate, drop the one that adds the fewest completed trials per unit of cost saved
//! until the budget is met), and the scenario as written. Then local search from each: among the
//! portfolios within the budget that differ by adding or dropping one candidate, swapping one for
//! one, two for one or one for two, move to the one with the fewest completed trials (then the
//! cheapest) while it improves. Every portfolio it evaluates is kept, including the single
//! additions above the budget it looks at, from which the next better portfolio is taken. When
//! the trials fit in one block, the phase bitsets are computed once for the whole search.
//!
use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::engine::{self, CHUNK_TRIALS, Plan, Watch};
use crate::phase::{N_PHASES, Phase};
use crate::scenario::Scenario;
use crate::stats::PairedTable;

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
    /// Too many candidates act in one phase.
    #[error(
        "{count} candidate controls act in phase {phase} ({ids}); at most {max} per phase can be searched (each phase needs 2^k trial bitsets)",
        max = MAX_PHASE_CANDIDATES
    )]
    PhaseTooLarge {
        /// The phase's id.
        phase: &'static str,
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

/// What a portfolio's accumulator is told about each block of trials. The one place where a
/// portfolio's completed trials are seen: the completion count uses it, and so can a loss model
/// that sums per-trial impacts into simulated years.
pub trait PortfolioAccumulator: Send {
    /// Trials `block_start..block_start + n_trials` were played; bit `t % 64` of
    /// `completed[t / 64]` is set when trial `block_start + t` completed under this portfolio
    /// (bits from `n_trials` on are clear). Called once per block, blocks in trial order.
    fn record(&mut self, block_start: u64, n_trials: usize, completed: &[u64]);
}

/// The number of completed trials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompletedCount(pub u64);

impl PortfolioAccumulator for CompletedCount {
    #[inline]
    fn record(&mut self, _block_start: u64, _n_trials: usize, completed: &[u64]) {
        self.0 += completed
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum::<u64>();
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
}

impl Problem {
    /// Finds the candidates and compiles the per-phase plans.
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
        let members = Phase::ALL.map(|phase| {
            (candidates.iter().enumerate())
                .filter(|&(_, &ci)| {
                    let c = &s.controls[ci];
                    (s.techniques_in(phase)).any(|(ti, t)| t.viable && c.applies_to(phase, ti))
                })
                .map(|(k, _)| k)
                .collect::<Vec<usize>>()
        });
        for (phase, m) in Phase::ALL.iter().zip(&members) {
            if m.len() > MAX_PHASE_CANDIDATES {
                let ids: Vec<&str> = m
                    .iter()
                    .map(|&k| s.controls[candidates[k]].id.as_str())
                    .collect();
                return Err(OptimizeError::PhaseTooLarge {
                    phase: phase.id(),
                    count: m.len(),
                    ids: ids.join(", "),
                });
            }
        }
        let mut problem = Problem {
            scenario: s.clone(),
            candidates,
            members,
            plans: Default::default(),
        };
        problem.scenario.variants.clear();
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

    /// Plays trials `0..trials` of a run with `seed` for every portfolio in `portfolios`, and
    /// returns one accumulator per portfolio (in the same order), each made by `fresh` and fed
    /// every block of trials in order. `None` when `watch` asked to stop. Runs on the current
    /// rayon pool; the result does not depend on its size.
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

    /// [`Problem::evaluate`], keeping the phase bitsets in `cache` when the trials fit in one
    /// block, so that later calls with the same seed and trials skip playing the phases (memory
    /// stays that of one block).
    fn evaluate_cached<A: PortfolioAccumulator>(
        &self,
        seed: u64,
        trials: u64,
        portfolios: &[u64],
        fresh: impl Fn() -> A,
        watch: Watch<'_>,
        cache: &mut Option<Vec<u64>>,
    ) -> Option<Vec<A>> {
        let mut accs: Vec<A> = portfolios.iter().map(|_| fresh()).collect();
        let subsets: Vec<[usize; N_PHASES]> = portfolios
            .iter()
            .map(|&m| std::array::from_fn(|p| self.subset(p, m)))
            .collect();
        self.blocks(seed, trials, watch, cache, |block| {
            accs.par_iter_mut()
                .zip(&subsets)
                .with_min_len(64)
                .for_each_init(
                    || vec![0u64; block.used],
                    |completed, (acc, sub)| {
                        block.completed(sub, completed);
                        acc.record(block.start, block.n, completed);
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
        cache: &mut Option<Vec<u64>>,
        mut each: impl FnMut(&Block<'_>),
    ) -> Option<()> {
        let block = CHUNK_TRIALS as usize;
        let words = block / 64;
        // One job per (phase, subset): its bitset is `bits[offset[p] + s]`.
        let jobs: Vec<(usize, usize)> = (0..N_PHASES)
            .flat_map(|p| (0..self.plans[p].len()).map(move |s| (p, s)))
            .collect();
        let mut offset = [0usize; N_PHASES];
        for p in 1..N_PHASES {
            offset[p] = offset[p - 1] + self.plans[p - 1].len();
        }
        let single = trials <= CHUNK_TRIALS;
        let cached = single && cache.is_some();
        let mut keys = vec![0u64; if cached { 0 } else { block }];
        let mut bits = match cache.take() {
            Some(bits) if single => bits,
            _ => vec![0u64; jobs.len() * words],
        };
        let mut start = 0u64;
        while start < trials {
            if watch.stopped() {
                return None;
            }
            let n = (trials - start).min(CHUNK_TRIALS) as usize;
            let used = n.div_ceil(64);
            if !cached {
                let keys = &mut keys[..n];
                engine::trial_keys(seed, start, keys);
                bits.par_chunks_mut(words)
                    .zip(jobs.par_iter())
                    .for_each(|(out, &(p, s))| {
                        engine::play_phase(&self.plans[p][s], p, keys, &mut out[..used]);
                    });
            }
            each(&Block {
                bits: &bits,
                offset,
                words,
                used,
                start,
                n,
            });
            watch.finished(n as u64);
            start += n as u64;
        }
        if single {
            *cache = Some(bits);
        }
        Some(())
    }

    /// For each pair of portfolios (first, second), the paired 2×2 table of "completed" over
    /// trials `0..trials`, from which [`PairedTable::difference`] gives first − second with its
    /// paired interval. `None` when `watch` asked to stop.
    pub fn paired(
        &self,
        seed: u64,
        trials: u64,
        pairs: &[(u64, u64)],
        watch: Watch<'_>,
    ) -> Option<Vec<PairedTable>> {
        let mut tables = vec![PairedTable::default(); pairs.len()];
        let sub = |m: u64| -> [usize; N_PHASES] { std::array::from_fn(|p| self.subset(p, m)) };
        let subsets: Vec<_> = pairs.iter().map(|&(a, b)| (sub(a), sub(b))).collect();
        self.blocks(seed, trials, watch, &mut None, |block| {
            let (mut a, mut b) = (vec![0u64; block.used], vec![0u64; block.used]);
            for (t, (sa, sb)) in tables.iter_mut().zip(&subsets) {
                block.completed(sa, &mut a);
                block.completed(sb, &mut b);
                let count = |f: &dyn Fn(u64, u64) -> u64| -> u64 {
                    a.iter()
                        .zip(&b)
                        .map(|(&x, &y)| u64::from(f(x, y).count_ones()))
                        .sum()
                };
                let both = count(&|x, y| x & y);
                let first_only = count(&|x, y| x & !y);
                let second_only = count(&|x, y| !x & y);
                t.both += both;
                t.first_only += first_only;
                t.second_only += second_only;
                t.neither += block.n as u64 - both - first_only - second_only;
            }
        })?;
        Some(tables)
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
}

impl Block<'_> {
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
    /// Trials that completed under it.
    pub completed: u64,
    /// Whether no other evaluated portfolio is at most as costly and completes at most as many
    /// trials, one of the two strictly.
    pub on_frontier: bool,
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// How the portfolios were searched.
    pub search: Search,
    /// Trials each portfolio was judged on.
    pub trials: u64,
    /// The evaluated portfolios, by annual cost, then completed trials, then mask.
    pub portfolios: Vec<Portfolio>,
    /// Index in `portfolios` of the best within the budget: fewest completed trials, then
    /// cheapest, then smallest mask.
    pub best: usize,
    /// Index of the cheapest evaluated portfolio above the budget that completes fewer trials
    /// than the best (fewest completed among equally cheap), if any.
    pub next_better: Option<usize>,
}

impl Optimum {
    /// Orders the evaluated portfolios, marks the frontier, and picks the best within `budget`
    /// and the next better above it.
    pub fn new(search: Search, trials: u64, mut portfolios: Vec<Portfolio>, budget: f64) -> Self {
        portfolios.sort_by(|a, b| {
            (a.cost.total_cmp(&b.cost))
                .then(a.completed.cmp(&b.completed))
                .then(a.mask.cmp(&b.mask))
        });
        mark_frontier(&mut portfolios);
        let key = |p: &Portfolio| (p.completed, p.cost, p.mask);
        let best = (0..portfolios.len())
            .filter(|&i| portfolios[i].cost <= budget)
            .min_by(|&i, &j| {
                let (a, b) = (key(&portfolios[i]), key(&portfolios[j]));
                (a.0.cmp(&b.0))
                    .then(a.1.total_cmp(&b.1))
                    .then(a.2.cmp(&b.2))
            })
            .expect("the empty portfolio costs nothing and is always evaluated");
        let next_better = (0..portfolios.len()).find(|&i| {
            portfolios[i].cost > budget && portfolios[i].completed < portfolios[best].completed
        });
        Optimum {
            search,
            trials,
            portfolios,
            best,
            next_better,
        }
    }
}

/// Marks the Pareto frontier of portfolios sorted by (cost, completed).
fn mark_frontier(sorted: &mut [Portfolio]) {
    let mut best_cheaper = u64::MAX; // fewest completed among strictly cheaper portfolios
    let mut i = 0;
    while i < sorted.len() {
        let cost = sorted[i].cost;
        let end = (i..sorted.len())
            .find(|&j| sorted[j].cost != cost)
            .unwrap_or(sorted.len());
        let least = sorted[i].completed; // sorted: the first of a cost group completes fewest
        for p in &mut sorted[i..end] {
            p.on_frontier = p.completed == least && least < best_cheaper;
        }
        best_cheaper = best_cheaper.min(least);
        i = end;
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
    let Some(completed) = problem.completed(seed, trials, &masks, watch) else {
        return Ok(None);
    };
    let portfolios = masks
        .iter()
        .zip(completed)
        .map(|(&mask, completed)| Portfolio {
            mask,
            cost: problem.cost(mask),
            completed,
            on_frontier: false,
        })
        .collect();
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
    let n = problem.n_candidates();
    let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
    let mut cache = None;
    let mut eval = |masks: Vec<u64>, seen: &mut BTreeMap<u64, u64>| -> Option<()> {
        let mut fresh: Vec<u64> = masks
            .into_iter()
            .filter(|m| !seen.contains_key(m))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if !fresh.is_empty() {
            let accs = problem.evaluate_cached(
                seed,
                trials,
                &fresh,
                CompletedCount::default,
                watch,
                &mut cache,
            )?;
            seen.extend(fresh.into_iter().zip(accs.into_iter().map(|c| c.0)));
        }
        Some(())
    };
    let fits = |m: u64| problem.cost(m) <= budget;
    let bit = |k: usize| 1u64 << k;
    let as_written = problem.as_written();
    eval(vec![0, as_written], &mut seen)?;

    // Greedy additions from the empty portfolio, by marginal return (drop in completed trials
    // per unit of cost) and by the drop alone.
    let mut starts = Vec::new();
    for per_cost in [true, false] {
        let mut current = 0u64;
        loop {
            let adds: Vec<u64> = (0..n)
                .filter(|&k| current & bit(k) == 0 && fits(current | bit(k)))
                .map(|k| current | bit(k))
                .collect();
            eval(adds.clone(), &mut seen)?;
            let base = seen[&current];
            let gain = |m: u64| {
                let drop = base.saturating_sub(seen[&m]) as f64;
                let extra = problem.cost(m) - problem.cost(current);
                match (per_cost, extra > 0.0) {
                    (true, true) => drop / extra,
                    (true, false) => f64::INFINITY,
                    (false, _) => drop,
                }
            };
            let pick = adds
                .iter()
                .copied()
                .filter(|m| seen[m] < base)
                .max_by(|&a, &b| gain(a).total_cmp(&gain(b)).then(b.cmp(&a)));
            match pick {
                Some(m) => current = m,
                None => break,
            }
        }
        starts.push(current);
    }
    // Greedy removals from every candidate until the budget is met, each time dropping the one
    // that adds the fewest completed trials per unit of cost saved.
    let mut current = (0..n).fold(0u64, |m, k| m | bit(k));
    eval(vec![current], &mut seen)?;
    while !fits(current) {
        let drops: Vec<u64> = (0..n)
            .filter(|&k| current & bit(k) != 0 && problem.candidate_cost(k) > 0.0)
            .map(|k| current ^ bit(k))
            .collect();
        eval(drops.clone(), &mut seen)?;
        let base = seen[&current] as f64;
        let loss = |m: u64| (seen[&m] as f64 - base) / (problem.cost(current) - problem.cost(m));
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
    let better = |a: u64, b: u64, seen: &BTreeMap<u64, u64>| {
        (seen[&a], problem.cost(a), a) < (seen[&b], problem.cost(b), b)
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
    let portfolios = seen
        .into_iter()
        .map(|(mask, completed)| Portfolio {
            mask,
            cost: problem.cost(mask),
            completed,
            on_frontier: false,
        })
        .collect();
    Some(Optimum::new(Search::Heuristic, trials, portfolios, budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(mask: u64, cost: f64, completed: u64) -> Portfolio {
        Portfolio {
            mask,
            cost,
            completed,
            on_frontier: false,
        }
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
