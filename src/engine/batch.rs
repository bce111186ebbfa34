//! The batched engine: a batch of trials goes through the chain phase by phase, and each
//! attempt is played for all the trials still trying in branch-free loops over arrays: one loop
//! for the pick, then one per control of the phase (computing the control's slot for every
//! trial, with the threshold of the technique each trial picked), then one that counts and
//! sorts the trials by outcome.
//!
//! It reads the same slots as the per-trial reference engine (`trial.rs`) and so produces the
//! same tally to the last count; tests compare the two. Reading a slot that the per-trial engine
//! would skip (a control behind one that already fired, or one that does not act on the picked
//! technique) changes nothing: its outcome is masked.
//! All buffers live in a [`Workspace`] sized once per worker; nothing is allocated per trial.

use super::plan::{DECEIVE, DEGRADE, DENY, DESTROY, DETECT, DISRUPT, PhaseAct, PhasePlan, Plan};
use crate::phase::N_PHASES;
use crate::rng::{Slot, SlotKind, SlotOffset, Threshold, TrialKeys, TrialStream};
use crate::stats::{Tally, TechniqueCounts};

/// Trials per batch: small enough for the buffers to stay in the L1/L2 cache.
pub(crate) const BATCH: usize = 4096;

/// What a paired run hands each batch's outcomes to: `(plan index, trial keys, outcomes)`.
pub(crate) type Record<'a> = dyn FnMut(usize, &[u64], &[u8]) + 'a;

/// No control.
const NONE: u32 = u32::MAX;

/// Per-trial state bits within one attempt.
const BLOCKED: u8 = 1; // denied or deceived: the attempt did not run
const INTERRUPTED: u8 = 2;
const SUCCEEDED: u8 = 4;
const DETECTED: u8 = 8;
const EVICTED: u8 = 16;
const DECEIVED: u8 = 32;

/// Reusable buffers for one worker.
pub(crate) struct Workspace {
    /// Keys of the batch trials still in the chain (those that passed the phase so far).
    alive: Vec<u64>,
    /// The trials still trying in this phase: keys and techniques tried.
    key: Vec<u64>,
    tried: Vec<u64>,
    /// Per trying trial within one attempt: viable-technique index picked, state bits,
    /// disrupt control that interrupted it.
    choice: Vec<u8>,
    state: Vec<u8>,
    ender: Vec<u32>,
    /// Scratch for the pick: the draw, running sums of weights, target, last untried.
    draw: Vec<u64>,
    acc: Vec<f64>,
    target: Vec<f64>,
    last: Vec<u8>,
    /// Breaks per control, plus one last entry for `technique-failed`.
    breaks: Vec<u64>,
    /// When outcomes are tracked: the batch position of each trial in `alive` and `key`, and
    /// each trial's outcome: the number of phases it passed, which is the index of the phase
    /// where its chain broke, or `N_PHASES` if it completed.
    alive_id: Vec<u16>,
    key_id: Vec<u16>,
    pub(crate) outcome: Vec<u8>,
}

impl Workspace {
    pub(crate) fn new(n_controls: usize) -> Workspace {
        Workspace {
            alive: vec![0; BATCH],
            key: vec![0; BATCH],
            tried: vec![0; BATCH],
            choice: vec![0; BATCH],
            state: vec![0; BATCH],
            ender: vec![NONE; BATCH],
            draw: vec![0; BATCH],
            acc: vec![0.0; BATCH],
            target: vec![0.0; BATCH],
            last: vec![0; BATCH],
            breaks: vec![0; n_controls + 1],
            alive_id: vec![0; BATCH],
            key_id: vec![0; BATCH],
            outcome: vec![0; BATCH],
        }
    }
}

/// Defines `$name`, which runs `$portable` compiled for AVX-512 or AVX2 when the processor has
/// them (chosen at run time) and as written otherwise. The feature-specific copies vectorise the
/// 64-bit arithmetic of the per-control loops. Only integer arithmetic and IEEE float operations
/// without contraction are involved, so every path gives the same bits.
macro_rules! dispatched {
    ($(#[$doc:meta])* fn $name:ident => $portable:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(unsafe_code)]
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
                unsafe fn avx512($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                #[allow(unsafe_code)]
                #[target_feature(enable = "avx2,bmi2")]
                unsafe fn avx2($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                use std::arch::is_x86_feature_detected as has;
                if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
                    // SAFETY: the processor supports every feature `avx512` is compiled for.
                    #[allow(unsafe_code)]
                    unsafe {
                        return avx512($($arg),*);
                    }
                }
                if has!("avx2") && has!("bmi2") {
                    // SAFETY: the processor supports every feature `avx2` is compiled for.
                    #[allow(unsafe_code)]
                    unsafe {
                        return avx2($($arg),*);
                    }
                }
            }
            $portable($($arg),*)
        }
    };
}

dispatched! {
    /// Runs the trials whose keys `keys` yields, `n` of them, into `tally`.
    fn run_trials => run_trials_portable(
        plan: &Plan,
        keys: &mut TrialKeys,
        n: u64,
        ws: &mut Workspace,
        tally: &mut Tally,
    )
}

dispatched! {
    /// Runs several plans on the same batches of trials (the keys are drawn once per batch) and
    /// hands each batch's outcomes to `record(plan_index, keys, outcomes)`, baseline plan first.
    fn run_paired => run_paired_portable(
        plans: &[Plan],
        keys: &mut TrialKeys,
        n: u64,
        ws: &mut Workspace,
        batch_keys: &mut [u64],
        tallies: &mut [Tally],
        record: &mut Record<'_>,
    )
}

/// The engine for any processor; inlined into the feature-specific copies of [`run_trials`].
#[inline(always)]
fn run_trials_portable(
    plan: &Plan,
    keys: &mut TrialKeys,
    mut n: u64,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    while n > 0 {
        let b = (n.min(BATCH as u64)) as usize;
        for k in &mut ws.alive[..b] {
            *k = keys.next_stream().key();
        }
        run_batch::<false>(plan, b, ws, tally);
        n -= b as u64;
    }
    flush_breaks(plan, ws, tally);
}

#[inline(always)]
fn run_paired_portable(
    plans: &[Plan],
    keys: &mut TrialKeys,
    mut n: u64,
    ws: &mut Workspace,
    batch_keys: &mut [u64],
    tallies: &mut [Tally],
    record: &mut Record<'_>,
) {
    while n > 0 {
        let b = (n.min(BATCH as u64)) as usize;
        for k in &mut batch_keys[..b] {
            *k = keys.next_stream().key();
        }
        for (v, (plan, tally)) in plans.iter().zip(tallies.iter_mut()).enumerate() {
            ws.alive[..b].copy_from_slice(&batch_keys[..b]);
            for (i, id) in ws.alive_id[..b].iter_mut().enumerate() {
                *id = i as u16;
            }
            ws.outcome[..b].fill(0);
            run_batch::<true>(plan, b, ws, tally);
            flush_breaks(plan, ws, tally);
            record(v, &batch_keys[..b], &ws.outcome[..b]);
        }
        n -= b as u64;
    }
}

/// Adds the breaks counted in the workspace to the tally and clears them.
#[inline(always)]
fn flush_breaks(plan: &Plan, ws: &mut Workspace, tally: &mut Tally) {
    let n_controls = plan.n_controls;
    for (total, add) in tally
        .control_breaks
        .iter_mut()
        .zip(&ws.breaks[..n_controls])
    {
        *total += add;
    }
    tally.breaks_technique_failed += ws.breaks[n_controls];
    ws.breaks.iter_mut().for_each(|b| *b = 0);
}

/// Plays the `b` trials whose keys are in `ws.alive`; with `TRACK`, also each trial's outcome
/// (by its position in `ws.alive_id`) into `ws.outcome`.
#[inline(always)]
fn run_batch<const TRACK: bool>(plan: &Plan, b: usize, ws: &mut Workspace, tally: &mut Tally) {
    tally.trials += b as u64;
    let mut m = b;
    for phase_idx in 0..N_PHASES {
        if m == 0 {
            return;
        }
        m = run_phase::<TRACK>(plan, phase_idx, m, ws, tally);
    }
    tally.completed += m as u64;
}

/// Plays one phase for the `m` trials in `ws.alive`; returns how many passed it, whose keys are
/// then the first in `ws.alive`.
#[inline(always)]
fn run_phase<const TRACK: bool>(
    plan: &Plan,
    phase_idx: usize,
    m: usize,
    ws: &mut Workspace,
    tally: &mut Tally,
) -> usize {
    let phase = &plan.phases[phase_idx];
    tally.reached[phase_idx] += m as u64;
    let n = phase.viable.len();
    if n == 0 {
        tally.broken[phase_idx] += m as u64;
        tally.breaks_no_viable += m as u64;
        return 0;
    }
    let attempts = (plan.max_attempts as usize).min(n) as u32;
    std::mem::swap(&mut ws.alive, &mut ws.key);
    if TRACK {
        std::mem::swap(&mut ws.alive_id, &mut ws.key_id);
    }
    let (mut pending, mut passed, mut broken) = (m, 0, 0);
    for attempt in 0..attempts {
        let last = attempt + 1 == attempts;
        let p = pending;
        pick(phase, phase_idx, attempt, p, ws);
        roll_controls(phase, phase_idx, attempt, last, p, ws, tally);
        broken += count_outcomes(plan, phase, last, &ws.choice[..p], &ws.state[..p], tally);
        // Sort the trials by outcome: passed ones join `alive`, failed ones try again.
        let (mut n_pass, mut n_fail) = (passed, 0);
        for i in 0..p {
            let (st, key) = (ws.state[i], ws.key[i]);
            let out = st & (SUCCEEDED | EVICTED);
            ws.alive[n_pass] = key;
            if TRACK {
                let id = ws.key_id[i];
                ws.alive_id[n_pass] = id;
                if !last {
                    ws.key_id[n_fail] = id;
                }
            }
            n_pass += usize::from(out == SUCCEEDED);
            if !last {
                let tried = if attempt == 0 { 0 } else { ws.tried[i] };
                ws.key[n_fail] = key;
                ws.tried[n_fail] = tried | 1 << (ws.choice[i] & 63);
                n_fail += usize::from(out == 0);
            }
        }
        passed = n_pass;
        pending = n_fail;
        if pending == 0 {
            break;
        }
    }
    tally.broken[phase_idx] += broken;
    if TRACK {
        // A trial's outcome is the number of phases it passed.
        for &id in &ws.alive_id[..passed] {
            ws.outcome[id as usize] = phase_idx as u8 + 1;
        }
    }
    passed
}

/// What [`count_outcomes`] counts per technique, as state masks and the values they must have.
const COUNTED: [(u8, u8); 9] = [
    (0, 0),                                           // attempts
    (BLOCKED | DECEIVED, BLOCKED),                    // prevented
    (DECEIVED, DECEIVED),                             // deceived
    (INTERRUPTED, INTERRUPTED),                       // interrupted
    (SUCCEEDED, SUCCEEDED),                           // succeeded
    (DETECTED, DETECTED),                             // detected
    (EVICTED, EVICTED),                               // evicted
    (BLOCKED | INTERRUPTED | SUCCEEDED | EVICTED, 0), // plain failure
    (SUCCEEDED | EVICTED, 0),                         // failure (passed nor evicted)
];

/// Adds one attempt's outcomes (technique picked and final state of each trial) to the
/// tally; returns the trials whose chain broke.
///
/// The counts of four techniques at a time are summed in one loop, as 16-bit fields of u64s
/// (a batch never has 2^16 trials).
#[inline(always)]
fn count_outcomes(
    plan: &Plan,
    phase: &PhasePlan,
    last: bool,
    choice: &[u8],
    state: &[u8],
    tally: &mut Tally,
) -> u64 {
    const _: () = assert!(BATCH < 1 << 16);
    let mut broken = 0;
    for (quad, viable) in phase.viable.chunks(4).enumerate() {
        let mut sums = [0u64; COUNTED.len()];
        for (&j, &st) in choice.iter().zip(state) {
            let one = if j >> 2 == quad as u8 {
                1u64 << (16 * (j & 3))
            } else {
                0
            };
            for (sum, &(mask, value)) in sums.iter_mut().zip(&COUNTED) {
                *sum += if st & mask == value { one } else { 0 };
            }
        }
        for (q, &ti) in viable.iter().enumerate() {
            let [
                attempts,
                prevented,
                deceived,
                interrupted,
                succeeded,
                detected,
                evicted,
                plain,
                failed,
            ] = sums.map(|s| s >> (16 * q) & 0xffff);
            let c = TechniqueCounts {
                attempts,
                prevented,
                deceived,
                interrupted,
                succeeded,
                failed: attempts - prevented - deceived - interrupted - succeeded,
                detected,
                evicted,
            };
            // Degrade is deterministic: it acts on every attempt that runs.
            for a in plan.acts(&plan.techniques[ti as usize], DEGRADE) {
                tally.control_fired[a.control as usize] += attempts - prevented - deceived;
            }
            broken += evicted;
            if last {
                // Attempts ran out: a plain failure is credited to the technique.
                tally.breaks_technique_failed += plain;
                broken += failed;
            }
            tally.techniques[ti as usize] += &c;
        }
    }
    broken
}

/// Each of the first `p` trying trials picks a technique into `ws.choice`.
#[inline(always)]
fn pick(phase: &PhasePlan, phase_idx: usize, attempt: u32, p: usize, ws: &mut Workspace) {
    let off = Slot::new(SlotKind::Pick, phase_idx, attempt, 0).offset();
    let key = &ws.key[..p];
    let choice = &mut ws.choice[..p];
    if attempt == 0 {
        // The number of cumulative thresholds at or below the draw (the last is never).
        let draw = &mut ws.draw[..p];
        for (d, &k) in draw.iter_mut().zip(key) {
            *d = TrialStream::from_key(k).draw53_at(off);
        }
        choice.fill(0);
        for &x in &phase.first_pick[..phase.first_pick.len() - 1] {
            for (c, &d) in choice.iter_mut().zip(&*draw) {
                *c += u8::from(d >= x);
            }
        }
        return;
    }
    // `pick_untried` for every trial at once: with w'_j the weight of j if untried and 0 if
    // tried, the running sums over all j equal those over the untried ones (adding +0.0 changes
    // nothing), and as they never decrease, the first untried j with target < sum_j is the
    // number of sums at or below the target; when there is none, the last untried j.
    let n = phase.viable.len();
    let weights = &phase.weights;
    let tried = &ws.tried[..p];
    let acc = &mut ws.acc[..p];
    let target = &mut ws.target[..p];
    let last = &mut ws.last[..p];
    acc.fill(0.0);
    for (j, &w) in weights.iter().enumerate() {
        for (a, &t) in acc.iter_mut().zip(tried) {
            *a += untried_weight(w, t, j);
        }
    }
    for ((tg, a), &k) in target.iter_mut().zip(&mut *acc).zip(key) {
        let u = TrialStream::from_key(k).unit_at(off);
        *tg = u * *a;
        *a = 0.0;
    }
    choice.fill(0);
    for (j, &w) in weights.iter().enumerate() {
        let lanes = acc.iter_mut().zip(&mut *choice).zip(&mut *last);
        for (((a, c), l), (&t, &tg)) in lanes.zip(tried.iter().zip(&*target)) {
            *a += untried_weight(w, t, j);
            *c += u8::from(*a <= tg);
            *l = if t >> j & 1 == 0 { j as u8 } else { *l };
        }
    }
    for (c, &l) in choice.iter_mut().zip(&*last) {
        *c = if *c as usize == n { l } else { *c };
    }
}

/// `w` if bit `j` of `tried` is clear, else +0.0 (selected on the bits, so that it vectorises
/// as a plain add).
#[inline(always)]
fn untried_weight(w: f64, tried: u64, j: usize) -> f64 {
    f64::from_bits(w.to_bits() & (tried >> j & 1).wrapping_sub(1))
}

/// The trying trials of one attempt, for the per-control loops.
struct Lanes<'a> {
    key: &'a [u64],
    choice: &'a [u8],
    state: &'a mut [u8],
    ender: &'a mut [u32],
}

/// Whether the draw at `off` falls below `t`, as 0 or 1, without branching.
#[inline(always)]
fn hit(key: u64, off: SlotOffset, t: u64) -> u8 {
    u8::from(TrialStream::from_key(key).draw53_at(off) < t)
}

/// [`hit`] that reads no slot when the outcome is certain (`t` is 0 or 1).
#[inline(always)]
fn hit_or_certain(key: u64, off: SlotOffset, t: Threshold) -> u8 {
    if t == Threshold::ONE {
        1
    } else if t.raw() == 0 {
        0
    } else {
        hit(key, off, t.raw())
    }
}

/// The fire threshold of `a` for a trial that picked technique `j`: 0 where it does not act.
#[inline(always)]
fn fire_threshold(a: &PhaseAct, j: u8) -> u64 {
    if a.applies >> (j & 63) & 1 != 0 {
        a.act.fire.raw()
    } else {
        0
    }
}

impl Lanes<'_> {
    /// For each trial whose state has none of `skip` and on whose technique `a` acts: roll its
    /// fire threshold at `fire`; where it hits, set `set`, and when `resp` is given roll the
    /// response at its offset and set [`EVICTED`] on a hit. Returns the fire and response hits.
    #[inline(always)]
    fn roll(
        &mut self,
        a: &PhaseAct,
        skip: u8,
        fire: SlotOffset,
        set: u8,
        resp: Option<SlotOffset>,
    ) -> (u64, u64) {
        let (mut hits, mut evicts) = (0u64, 0u64);
        for i in 0..self.state.len() {
            let (st, k) = (self.state[i], self.key[i]);
            let f = u8::from(st & skip == 0) & hit(k, fire, fire_threshold(a, self.choice[i]));
            let r = match resp {
                Some(off) => f & hit_or_certain(k, off, a.act.response),
                None => 0,
            };
            self.state[i] = st | (f * set) | (r * EVICTED);
            hits += u64::from(f);
            evicts += u64::from(r);
        }
        (hits, evicts)
    }
}

/// Rolls every control of the phase, and the success, for the first `p` trying trials, into
/// `ws.state`; counts the controls' fires and the chains they break.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn roll_controls(
    phase: &PhasePlan,
    phase_idx: usize,
    attempt: u32,
    last: bool,
    p: usize,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    ws.state[..p].fill(0);
    let mut g = Lanes {
        key: &ws.key[..p],
        choice: &ws.choice[..p],
        state: &mut ws.state[..p],
        ender: &mut ws.ender[..p],
    };
    let fire = |a: &PhaseAct| Slot::new(SlotKind::Fire, phase_idx, attempt, a.act.tag).offset();
    let resp = |a: &PhaseAct| Slot::new(SlotKind::Response, phase_idx, attempt, a.act.tag).offset();
    let fired = &mut tally.control_fired;
    let breaks = &mut ws.breaks;

    // 1. deny: the first that fires prevents the attempt (and ends it: credited if it is the
    // last).
    for a in phase.acts(DENY) {
        let (f, _) = g.roll(a, BLOCKED, fire(a), BLOCKED, None);
        fired[a.act.control as usize] += f;
        if last {
            breaks[a.act.control as usize] += f;
        }
    }
    // 2. deceive: the first that fires diverts the attempt; its response may evict. Either
    // way it ends the attempt.
    for a in phase.acts(DECEIVE) {
        let (f, r) = g.roll(a, BLOCKED, fire(a), BLOCKED | DECEIVED, Some(resp(a)));
        fired[a.act.control as usize] += f;
        breaks[a.act.control as usize] += if last { f } else { r };
    }
    // 3. degrade is deterministic (counted with the outcomes). 4. disrupt: the first that
    // fires interrupts the running attempt.
    let disrupts = phase.acts(DISRUPT);
    if !disrupts.is_empty() {
        g.ender.fill(NONE);
        for a in disrupts {
            let off = fire(a);
            let mut hits = 0u64;
            for i in 0..g.state.len() {
                let st = g.state[i];
                let f = u8::from(st & (BLOCKED | INTERRUPTED) == 0)
                    & hit(g.key[i], off, fire_threshold(a, g.choice[i]));
                g.state[i] = st | (f * INTERRUPTED);
                g.ender[i] = if f != 0 { a.act.control } else { g.ender[i] };
                hits += u64::from(f);
            }
            fired[a.act.control as usize] += hits;
        }
    }
    // 5. the success roll, unless interrupted.
    let success_at = Slot::new(SlotKind::Success, phase_idx, attempt, 0).offset();
    // The threshold of each trial's technique, chosen without a table lookup (which would not
    // vectorise).
    let threshold = &mut ws.draw[..p];
    threshold.fill(0);
    for (j, &t) in phase.success.iter().enumerate() {
        for (th, &c) in threshold.iter_mut().zip(g.choice) {
            *th = if usize::from(c) == j { t } else { *th };
        }
    }
    for ((st, &k), &t) in g.state.iter_mut().zip(g.key).zip(&*threshold) {
        let f = u8::from(*st & (BLOCKED | INTERRUPTED) == 0) & hit(k, success_at, t);
        *st |= f * SUCCEEDED;
    }
    // 6. detect: each rolls; the first response that evicts breaks the chain.
    for a in phase.acts(DETECT) {
        let (f, r) = g.roll(a, BLOCKED | EVICTED, fire(a), DETECTED, Some(resp(a)));
        fired[a.act.control as usize] += f;
        breaks[a.act.control as usize] += r;
    }
    // 7. destroy: the first that fires ends the operation.
    for a in phase.acts(DESTROY) {
        let (f, _) = g.roll(a, BLOCKED | EVICTED, fire(a), EVICTED, None);
        fired[a.act.control as usize] += f;
        breaks[a.act.control as usize] += f;
    }
    // Attempts ran out: an interrupted attempt that was not evicted is credited to its disrupt.
    if last {
        for a in disrupts {
            let c = a.act.control;
            let n: u64 = (0..g.state.len())
                .map(|i| u64::from((g.ender[i] == c) & (g.state[i] & EVICTED == 0)))
                .sum();
            breaks[c as usize] += n;
        }
    }
}
