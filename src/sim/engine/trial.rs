//! One trial — one attack campaign — as a function of the compiled plan and the trial's random
//! stream. `attempt` is the single place where one attempt's mechanics live.

use super::plan::{DECEIVE, DEGRADE, DENY, DESTROY, DETECT, DISRUPT, Plan, TechniquePlan};
use crate::phase::N_PHASES;
use crate::sim::rng::{Slot, SlotKind, TrialStream};
use crate::stats::Tally;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The technique succeeded and nothing evicted the adversary.
    Succeeded,
    /// The attempt failed; `ended_by` is the deny, deceive or disrupt control that ended it.
    Failed { ended_by: Option<u32> },
    /// The chain was broken by this control (decoy or detection response, or destroy).
    Evicted { by: u32 },
}

/// Who broke the chain at a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaker {
    Control(u32),
    TechniqueFailed,
    NoViableTechnique,
}

/// Runs one trial and adds it to the tally.
#[inline]
pub(crate) fn run_trial(plan: &Plan, s: TrialStream, tally: &mut Tally) {
    run_trial_outcome(plan, s, tally);
}

/// Runs one trial, adds it to the tally and returns its outcome: the number of phases it
/// passed (the index of the phase that broke its chain, or `N_PHASES` when it completed).
#[inline]
pub(crate) fn run_trial_outcome(plan: &Plan, s: TrialStream, tally: &mut Tally) -> u8 {
    tally.trials += 1;
    // The campaign's path state: which techniques that `after` lists name it passed with.
    let mut state = 0u64;
    for phase_idx in 0..N_PHASES {
        tally.reached[phase_idx] += 1;
        match run_phase(plan, phase_idx, state, s, tally) {
            Ok(ti) => {
                if let Some(paths) = &plan.paths {
                    state = paths.passed(ti, state, phase_idx);
                }
            }
            Err(breaker) => {
                tally.broken[phase_idx] += 1;
                match breaker {
                    Breaker::Control(c) => tally.control_breaks[c as usize] += 1,
                    Breaker::TechniqueFailed => tally.breaks_technique_failed += 1,
                    Breaker::NoViableTechnique => tally.breaks_no_viable += 1,
                }
                return phase_idx as u8;
            }
        }
    }
    tally.completed += 1;
    N_PHASES as u8
}

/// Whether the adversary passes phase `phase_idx` of a trial, judged alone: the phase is played
/// as if reached, whatever earlier phases did. `scratch` takes the counts and is otherwise
/// ignored.
#[inline]
pub(crate) fn passes_phase(
    plan: &Plan,
    phase_idx: usize,
    s: TrialStream,
    scratch: &mut Tally,
) -> bool {
    debug_assert!(plan.paths.is_none(), "a phase judged alone has no path");
    run_phase(plan, phase_idx, 0, s, scratch).is_ok()
}

/// Plays one phase for a campaign in path state `state`; the technique it passed with (a
/// scenario index), or who broke the chain.
#[inline]
fn run_phase(
    plan: &Plan,
    phase_idx: usize,
    state: u64,
    s: TrialStream,
    tally: &mut Tally,
) -> Result<usize, Breaker> {
    let phase = &plan.phases[phase_idx];
    // Techniques the path rules out count as tried: no attempt picks them.
    let barred: u64 = match &plan.paths {
        None => 0,
        Some(paths) => (phase.viable.iter().enumerate())
            .filter(|&(_, &ti)| !paths.allows(ti as usize, state))
            .fold(0, |m, (j, _)| m | 1 << j),
    };
    let n = phase.viable.len() - barred.count_ones() as usize;
    if n == 0 {
        return Err(Breaker::NoViableTechnique);
    }
    let attempts = (plan.max_attempts as usize).min(n) as u32;
    let mut tried: u64 = barred;
    let mut last_ender = None;
    for attempt in 0..attempts {
        let j = if attempt == 0 && barred == 0 {
            // Branch-free: the number of cumulative thresholds at or below the draw.
            let u = s.draw53(Slot::new(SlotKind::Pick, phase_idx, 0, 0));
            phase.first_pick.iter().map(|&c| usize::from(u >= c)).sum()
        } else {
            pick_untried(
                &phase.weights,
                tried,
                s.unit(Slot::new(SlotKind::Pick, phase_idx, attempt, 0)),
            )
        };
        tried |= 1 << j;
        let ti = phase.viable[j] as usize;
        match attempt_once(plan, &plan.techniques[ti], ti, phase_idx, attempt, s, tally) {
            Attempt::Succeeded => return Ok(ti),
            Attempt::Evicted { by } => return Err(Breaker::Control(by)),
            Attempt::Failed { ended_by } => last_ender = ended_by,
        }
    }
    Err(last_ender.map_or(Breaker::TechniqueFailed, Breaker::Control))
}

/// Weighted pick among the techniques not in `tried`, with `u` uniform in [0, 1).
#[inline(always)]
pub(crate) fn pick_untried(weights: &[f64], tried: u64, u: f64) -> usize {
    let untried = || (0..weights.len()).filter(move |j| tried & (1 << j) == 0);
    let remaining: f64 = untried().map(|j| weights[j]).sum();
    let target = u * remaining;
    let mut acc = 0.0;
    let mut last = 0;
    for j in untried() {
        acc += weights[j];
        if target < acc {
            return j;
        }
        last = j;
    }
    last
}

/// One attempt of technique `ti`: the controls act in the documented order.
#[inline]
fn attempt_once(
    plan: &Plan,
    t: &TechniquePlan,
    ti: usize,
    phase_idx: usize,
    attempt: u32,
    s: TrialStream,
    tally: &mut Tally,
) -> Attempt {
    let fire = |tag| Slot::new(SlotKind::Fire, phase_idx, attempt, tag);
    let response = |tag| Slot::new(SlotKind::Response, phase_idx, attempt, tag);
    tally.techniques[ti].attempts += 1;

    // 1. deny: the first that fires prevents the attempt.
    for a in plan.acts(t, DENY) {
        if s.happens(fire(a.tag), a.fire) {
            tally.control_fired[a.control as usize] += 1;
            tally.techniques[ti].prevented += 1;
            return Attempt::Failed {
                ended_by: Some(a.control),
            };
        }
    }
    // 2. deceive: the first that fires diverts the attempt; its response may evict.
    for a in plan.acts(t, DECEIVE) {
        if s.happens(fire(a.tag), a.fire) {
            tally.control_fired[a.control as usize] += 1;
            tally.techniques[ti].deceived += 1;
            if s.happens(response(a.tag), a.response) {
                tally.techniques[ti].evicted += 1;
                return Attempt::Evicted { by: a.control };
            }
            return Attempt::Failed {
                ended_by: Some(a.control),
            };
        }
    }
    // 3. degrade: deterministic; folded into `t.success` when the plan was built.
    for a in plan.acts(t, DEGRADE) {
        tally.control_fired[a.control as usize] += 1;
    }
    // 4. disrupt: the first that fires interrupts the running attempt.
    let mut interrupted = None;
    for a in plan.acts(t, DISRUPT) {
        if s.happens(fire(a.tag), a.fire) {
            tally.control_fired[a.control as usize] += 1;
            interrupted = Some(a.control);
            break;
        }
    }
    // 5. the success roll, unless interrupted (computed without branching on the draw).
    let ran_free = interrupted.is_none();
    let rolled = s.happens(
        Slot::new(SlotKind::Success, phase_idx, attempt, 0),
        t.success,
    );
    let succeeded = ran_free & rolled;
    let counts = &mut tally.techniques[ti];
    counts.interrupted += u64::from(!ran_free);
    counts.succeeded += u64::from(succeeded);
    counts.failed += u64::from(ran_free & !rolled);
    // 6. detect: each rolls; the first response that evicts breaks the chain.
    let mut detected = false;
    for a in plan.acts(t, DETECT) {
        if s.happens(fire(a.tag), a.fire) {
            tally.control_fired[a.control as usize] += 1;
            detected = true;
            if s.happens(response(a.tag), a.response) {
                let counts = &mut tally.techniques[ti];
                counts.detected += 1;
                counts.evicted += 1;
                return Attempt::Evicted { by: a.control };
            }
        }
    }
    if detected {
        tally.techniques[ti].detected += 1;
    }
    // 7. destroy: the first that fires ends the operation.
    for a in plan.acts(t, DESTROY) {
        if s.happens(fire(a.tag), a.fire) {
            tally.control_fired[a.control as usize] += 1;
            tally.techniques[ti].evicted += 1;
            return Attempt::Evicted { by: a.control };
        }
    }
    if succeeded {
        Attempt::Succeeded
    } else {
        Attempt::Failed {
            ended_by: interrupted,
        }
    }
}
