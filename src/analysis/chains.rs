//! The exact objective of `optimize`, for every adversary of a file and every attack path.
//!
//! A campaign's outcome in a phase depends on the controls acting in that phase and, with attack
//! paths (`after`), on the path state it enters with (which techniques later `after` lists name
//! it passed earlier phases with). So for each adversary, each phase, each subset of the
//! candidates acting in that phase for that adversary and each path state the phase can be
//! entered in, the table keeps where the passing campaigns go (exit state, probability), from
//! [`exact::phase_exits`]. A portfolio's completion probability for an adversary is the chain of
//! its phases' tables from state 0: the state distribution carried forward, summed in the order
//! [`exact::evaluate`] sums it, so it is `evaluate`'s `completed` of the portfolio's scenario to
//! the bit. Without paths there is one state and the chain is the product of the phases' pass
//! probabilities.
//!
//! A one-adversary file's objective is the completion probability (with `[loss]`, λ · p ·
//! E[impact]); a threat landscape's is the expected successful attacks a year, Σ λₐ · pₐ (with
//! `[loss]`, the sum of the adversaries' expected annual losses), the same sums
//! `killchain exact` reports for the landscape.
//!
//! Invariant: a table depends only on its adversary's one-adversary scenario and on which of the
//! phase's candidates are enabled; every portfolio reads the same tables.

use crate::money::LossModel;
use crate::phase::{N_PHASES, Phase};
use crate::scenario::Scenario;
use crate::sim::exact::{self, TooLarge};

/// One phase of one adversary's chain under every subset of the phase's candidates.
#[derive(Debug, Clone, PartialEq)]
struct Table {
    /// Path states the phase can be entered in (under some portfolio), ascending.
    states: usize,
    /// `exits[starts[sub * states + e]..starts[sub * states + e + 1]]`: where the campaigns
    /// entering in state `e` under subset `sub` and passing go (index of the next phase's
    /// state, probability).
    starts: Vec<u32>,
    exits: Vec<(u32, f64)>,
}

/// One adversary: its rate, losses and tables.
#[derive(Debug, Clone, PartialEq)]
struct Chain {
    /// The adversary's id (a one-adversary file's: empty).
    id: String,
    /// Expected campaigns a year (1 where the file gives none).
    attacks_per_year: f64,
    /// Its `[loss]`: its rate and impact.
    loss: Option<LossModel>,
    /// Per phase: the candidates (bit positions of a portfolio) acting in it on this
    /// adversary's viable techniques; bit `j` of a table's subset is `members[p][j]`.
    members: [Vec<usize>; N_PHASES],
    /// Per phase, its table.
    tables: [Table; N_PHASES],
    /// Path states entering the widest phase (at least 1).
    widest: usize,
}

/// Most (subset, entry state) pairs one phase's table may hold.
pub const MAX_ENTRIES: u64 = 1 << 20;

/// Why one phase cannot be tabulated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableTooLarge {
    /// Too many sets of tried techniques to enumerate.
    Enumeration(TooLarge),
    /// Too many subsets of its candidates times path states entering it.
    Entries {
        /// The phase.
        phase: Phase,
        /// Subsets of its candidates.
        subsets: u64,
        /// Path states it can be entered in.
        states: u64,
    },
}

/// Why a file's chains cannot be tabulated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTooLarge {
    /// The adversary whose phase is too large (a landscape's).
    pub adversary: Option<String>,
    /// The phase and its size.
    pub cause: TableTooLarge,
}

/// One adversary's figures under a portfolio, exact.
#[derive(Debug, Clone, PartialEq)]
pub struct AdversaryValue {
    /// Its id.
    pub id: String,
    /// The probability that one of its campaigns completes.
    pub completion: f64,
    /// Its successful attacks a year, λ · p.
    pub attacks_per_year: f64,
    /// With `[loss]`: its expected annual loss.
    pub ale: Option<f64>,
}

/// Every adversary's chain of a file, tabulated for every portfolio of its candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactPhases {
    chains: Vec<Chain>,
    landscape: bool,
}

/// The chains' scratch: two state distributions.
#[derive(Debug, Default)]
pub struct Scratch {
    reach: Vec<f64>,
    next: Vec<f64>,
}

impl ExactPhases {
    /// Tabulates each adversary of `s` (a landscape's enabled adversaries; else the file's
    /// one) for the candidates `candidates` (control indices; bit `k` of a portfolio is
    /// `candidates[k]`), whose per-adversary, per-phase members `members(part)` gives.
    pub(super) fn new(
        s: &Scenario,
        candidates: &[usize],
        members: impl Fn(&Scenario) -> [Vec<usize>; N_PHASES],
    ) -> Result<ExactPhases, ChainTooLarge> {
        let parts: Vec<(String, f64, Scenario)> = if s.is_landscape() {
            (s.parts().into_iter())
                .map(|p| (p.id, p.attacks_per_year, p.scenario))
                .collect()
        } else {
            vec![(String::new(), 1.0, s.clone())]
        };
        let landscape = s.is_landscape();
        let chains = (parts.into_iter())
            .map(|(id, attacks_per_year, part)| {
                let members = members(&part);
                let tables =
                    tabulate(&part, candidates, &members).map_err(|cause| ChainTooLarge {
                        adversary: landscape.then(|| id.clone()),
                        cause,
                    })?;
                let widest = tables.iter().map(|t| t.states).max().unwrap_or(1).max(1);
                Ok(Chain {
                    id,
                    attacks_per_year,
                    loss: part.loss.clone(),
                    members,
                    tables,
                    widest,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ExactPhases { chains, landscape })
    }

    /// Whether the objective is a landscape's (successful attacks a year).
    pub fn landscape(&self) -> bool {
        self.landscape
    }

    /// Phase tables kept: Σ over adversaries and phases of subsets × entry states.
    pub fn entries(&self) -> usize {
        (self.chains.iter())
            .flat_map(|c| c.tables.iter())
            .map(|t| t.starts.len() - 1)
            .sum()
    }

    /// The probability that a campaign of adversary `a` completes under `portfolio`.
    fn completion(&self, a: usize, portfolio: u64, scratch: &mut Scratch) -> f64 {
        let chain = &self.chains[a];
        let Scratch { reach, next } = scratch;
        reach.clear();
        reach.push(1.0);
        for (table, members) in chain.tables.iter().zip(&chain.members) {
            let sub = (members.iter().enumerate()).fold(0usize, |s, (j, &k)| {
                s | ((portfolio >> k & 1) as usize) << j
            });
            let first = sub * table.states;
            next.clear();
            for (e, &r) in reach.iter().enumerate() {
                let (from, to) = (table.starts[first + e], table.starts[first + e + 1]);
                for &(exit, p) in &table.exits[from as usize..to as usize] {
                    let exit = exit as usize;
                    if next.len() <= exit {
                        next.resize(exit + 1, 0.0);
                    }
                    next[exit] += r * p;
                }
            }
            std::mem::swap(reach, next);
        }
        reach.iter().sum()
    }

    /// Each adversary's figures under `portfolio`, in file order.
    pub fn adversaries(&self, portfolio: u64) -> Vec<AdversaryValue> {
        let mut scratch = self.scratch();
        (self.chains.iter().enumerate())
            .map(|(a, c)| {
                let completion = self.completion(a, portfolio, &mut scratch);
                AdversaryValue {
                    id: c.id.clone(),
                    completion,
                    attacks_per_year: c.attacks_per_year * completion,
                    ale: c.loss.as_ref().map(|m| m.exact_ale(completion)),
                }
            })
            .collect()
    }

    /// The objective's two figures under `portfolio`: the completion probability (a
    /// landscape's successful attacks a year) and, with `[loss]`, the expected annual loss
    /// (a landscape's sum over its adversaries).
    pub fn value(&self, portfolio: u64, scratch: &mut Scratch) -> (f64, Option<f64>) {
        if !self.landscape {
            let completion = self.completion(0, portfolio, scratch);
            let ale = (self.chains[0].loss.as_ref()).map(|m| m.exact_ale(completion));
            return (completion, ale);
        }
        let (mut attacks, mut ale) = (0.0, self.chains[0].loss.as_ref().map(|_| 0.0));
        for (a, c) in self.chains.iter().enumerate() {
            let completion = self.completion(a, portfolio, scratch);
            attacks += c.attacks_per_year * completion;
            if let (Some(total), Some(m)) = (ale.as_mut(), c.loss.as_ref()) {
                *total += m.exact_ale(completion);
            }
        }
        (attacks, ale)
    }

    /// Buffers for [`ExactPhases::value`], sized for the widest phase.
    pub fn scratch(&self) -> Scratch {
        let widest = self.chains.iter().map(|c| c.widest).max().unwrap_or(1);
        Scratch {
            reach: Vec::with_capacity(widest),
            next: Vec::with_capacity(widest),
        }
    }
}

/// One adversary's seven tables: the path states each phase can be entered in, found phase by
/// phase from state 0 over every subset of the phase's candidates.
fn tabulate(
    s: &Scenario,
    candidates: &[usize],
    members: &[Vec<usize>; N_PHASES],
) -> Result<[Table; N_PHASES], TableTooLarge> {
    let paths = s.path_bits();
    let mut scenario = s.clone();
    let mut states: Vec<u64> = vec![0];
    let mut tables: Vec<Table> = Vec::with_capacity(N_PHASES);
    for (phase, m) in Phase::ALL.into_iter().zip(members) {
        let subsets = 1u64 << m.len();
        if subsets.saturating_mul(states.len() as u64) > MAX_ENTRIES {
            return Err(TableTooLarge::Entries {
                phase,
                subsets,
                states: states.len() as u64,
            });
        }
        // Every subset's exits, by exit state.
        let mut raw: Vec<Vec<Vec<(u64, f64)>>> = Vec::with_capacity(1 << m.len());
        for sub in 0..1usize << m.len() {
            for (j, &k) in m.iter().enumerate() {
                scenario.controls[candidates[k]].enabled = sub >> j & 1 == 1;
            }
            raw.push(
                exact::phase_exits(&scenario, &paths, phase, &states)
                    .map_err(TableTooLarge::Enumeration)?,
            );
        }
        let mut next: Vec<u64> = (raw.iter().flatten().flatten())
            .map(|&(exit, _)| exit)
            .collect();
        next.sort_unstable();
        next.dedup();
        let index = |exit: u64| next.binary_search(&exit).expect("collected above") as u32;
        let mut starts = Vec::with_capacity(raw.len() * states.len() + 1);
        let mut exits = Vec::new();
        starts.push(0u32);
        for lists in &raw {
            for list in lists {
                exits.extend(list.iter().map(|&(exit, p)| (index(exit), p)));
                starts.push(u32::try_from(exits.len()).expect("tables fit in u32"));
            }
        }
        tables.push(Table {
            states: states.len(),
            starts,
            exits,
        });
        states = next;
    }
    Ok(tables.try_into().expect("one table per phase"))
}
