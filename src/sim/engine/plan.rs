//! A scenario compiled for the hot path: flat arrays, integer thresholds, no strings.

use crate::phase::{CourseOfAction, N_PHASES, Phase};
use crate::scenario::{PathBits, Scenario};
use crate::sim::rng::{Threshold, control_tag};

/// Positions of the courses of action in `CourseOfAction::ENGINE_ORDER`, as indices of a
/// technique's control groups.
pub(crate) const DENY: usize = CourseOfAction::Deny.engine_rank();
pub(crate) const DECEIVE: usize = CourseOfAction::Deceive.engine_rank();
pub(crate) const DEGRADE: usize = CourseOfAction::Degrade.engine_rank();
pub(crate) const DISRUPT: usize = CourseOfAction::Disrupt.engine_rank();
pub(crate) const DETECT: usize = CourseOfAction::Detect.engine_rank();
pub(crate) const DESTROY: usize = CourseOfAction::Destroy.engine_rank();

/// One enabled control as it acts on one technique.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Act {
    /// Index of the control in the scenario.
    pub control: u32,
    /// Probability it fires.
    pub fire: Threshold,
    /// Probability its response evicts (detect and deceive).
    pub response: Threshold,
    /// The control's slot tag.
    pub tag: u64,
}

/// One technique with the controls that act on it, grouped by course of action.
#[derive(Debug, Clone)]
pub(crate) struct TechniquePlan {
    /// Success probability after every degrade control.
    pub success: Threshold,
    /// `acts[bounds[k]..bounds[k + 1]]` are the controls of `CourseOfAction::ENGINE_ORDER[k]`,
    /// in file order.
    pub bounds: [u32; 7],
}

/// One phase: its viable techniques and the cumulative pick thresholds of a first attempt.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PhasePlan {
    /// Scenario indices of the viable techniques, in file order.
    pub viable: Vec<u32>,
    /// Their weights.
    pub weights: Vec<f64>,
    /// `first_pick[j]` = round(2^53 · Σ_{i ≤ j} w_i / W); the last is exactly 2^53.
    pub first_pick: Vec<u64>,
    /// Their success thresholds.
    pub success: Vec<u64>,
    /// Every control that acts on some viable technique of the phase, grouped by course of
    /// action: `acts[bounds[k]..bounds[k + 1]]` for `CourseOfAction::ENGINE_ORDER[k]`, in file
    /// order. Each technique's own list is the subsequence of those that apply to it.
    pub acts: Vec<PhaseAct>,
    pub bounds: [u32; 7],
}

/// One control as it acts on the viable techniques of a phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PhaseAct {
    /// The control's act (its thresholds do not depend on the technique).
    pub act: Act,
    /// Bit `j` is set when the control acts on viable technique `j`.
    pub applies: u64,
}

impl PhasePlan {
    /// The phase's acts for the `k`-th course of action in engine order.
    #[inline(always)]
    pub(crate) fn acts(&self, k: usize) -> &[PhaseAct] {
        &self.acts[self.bounds[k] as usize..self.bounds[k + 1] as usize]
    }
}

/// The compiled scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) max_attempts: u32,
    pub(crate) phases: [PhasePlan; N_PHASES],
    pub(crate) techniques: Vec<TechniquePlan>,
    pub(crate) acts: Vec<Act>,
    pub(crate) n_controls: usize,
    /// The scenario's attack paths, if any `after` list names one.
    pub(crate) paths: Option<PathBits>,
}

impl Plan {
    /// Whether phase `phase_idx` plays the same under both plans: the same attempts, the same
    /// viable techniques with the same weights and success, the same controls acting on each
    /// with the same probabilities and slots. A trial that reaches the phase under both then has
    /// the same outcome in it under both, since that outcome depends only on the trial's key,
    /// the phase and what acts in it.
    pub fn phase_plays_alike(&self, other: &Plan, phase_idx: usize) -> bool {
        let (a, b) = (&self.phases[phase_idx], &other.phases[phase_idx]);
        self.max_attempts == other.max_attempts
            && self.paths == other.paths
            && a == b
            && a.viable.iter().all(|&ti| {
                let (x, y) = (
                    &self.techniques[ti as usize],
                    &other.techniques[ti as usize],
                );
                let acts = |p: &Plan, t: &TechniquePlan| {
                    (0..6)
                        .map(|k| p.acts[t.bounds[k] as usize..t.bounds[k + 1] as usize].to_vec())
                        .collect::<Vec<_>>()
                };
                x.success == y.success && acts(self, x) == acts(other, y)
            })
    }

    /// Compiles a validated scenario; disabled controls are left out.
    pub fn new(s: &Scenario) -> Plan {
        let mut acts = Vec::new();
        let mut techniques = Vec::with_capacity(s.techniques.len());
        for (ti, t) in s.techniques.iter().enumerate() {
            let mut bounds = [0u32; 7];
            let mut success = t.success.get();
            for (k, action) in CourseOfAction::ENGINE_ORDER.into_iter().enumerate() {
                bounds[k] = acts.len() as u32;
                for (ci, c) in s.controls.iter().enumerate() {
                    if !c.enabled || c.action != action || !c.applies_to(t.phase, ti) {
                        continue;
                    }
                    if action == CourseOfAction::Degrade {
                        success *= 1.0 - c.effectiveness.get();
                    }
                    acts.push(Act {
                        control: ci as u32,
                        fire: Threshold::new(c.effectiveness.get()),
                        response: Threshold::new(c.response.get()),
                        tag: control_tag(&c.id),
                    });
                }
            }
            bounds[6] = acts.len() as u32;
            techniques.push(TechniquePlan {
                success: Threshold::new(success),
                bounds,
            });
        }
        let phases = Phase::ALL.map(|phase| {
            let mut p = PhasePlan::default();
            for (ti, t) in s.techniques_in(phase).filter(|(_, t)| t.viable) {
                p.viable.push(ti as u32);
                p.weights.push(t.weight);
            }
            let total: f64 = p.weights.iter().sum();
            let mut acc = 0.0;
            for (j, w) in p.weights.iter().enumerate() {
                acc += w;
                let cum = if j + 1 == p.weights.len() {
                    1.0
                } else {
                    acc / total
                };
                p.first_pick.push(Threshold::new(cum).raw());
            }
            p
        });
        let mut plan = Plan {
            max_attempts: s.adversary.max_attempts,
            phases,
            techniques,
            acts,
            n_controls: s.controls.len(),
            paths: s.has_paths().then(|| s.path_bits()),
        };
        for k in 0..N_PHASES {
            plan.phases[k] = plan.phase_tables(&plan.phases[k]);
        }
        plan
    }

    /// `p` with the batched engine's tables filled in.
    fn phase_tables(&self, p: &PhasePlan) -> PhasePlan {
        let mut out = p.clone();
        out.success = (p.viable.iter())
            .map(|&ti| self.techniques[ti as usize].success.raw())
            .collect();
        out.acts.clear();
        for k in 0..CourseOfAction::ENGINE_ORDER.len() {
            out.bounds[k] = out.acts.len() as u32;
            // Techniques list their controls in file (index) order, so merging by index keeps
            // every technique's order.
            let mut merged: Vec<PhaseAct> = Vec::new();
            for (j, &ti) in p.viable.iter().enumerate() {
                for a in self.acts(&self.techniques[ti as usize], k) {
                    match merged.iter_mut().find(|m| m.act.control == a.control) {
                        Some(m) => {
                            debug_assert!(m.act.fire == a.fire && m.act.response == a.response);
                            m.applies |= 1 << j;
                        }
                        None => merged.push(PhaseAct {
                            act: *a,
                            applies: 1 << j,
                        }),
                    }
                }
            }
            merged.sort_by_key(|m| m.act.control);
            out.acts.extend(merged);
        }
        out.bounds[6] = out.acts.len() as u32;
        out
    }

    /// The acts of technique `t` for the `k`-th course of action in engine order.
    #[inline(always)]
    pub(crate) fn acts(&self, t: &TechniquePlan, k: usize) -> &[Act] {
        &self.acts[t.bounds[k] as usize..t.bounds[k + 1] as usize]
    }
}
