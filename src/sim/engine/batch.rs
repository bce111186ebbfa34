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
use super::simd::{self, dispatched};
use crate::phase::N_PHASES;
use crate::sim::rng::{Slot, SlotKind, SlotOffset, Threshold, TrialKeys, TrialStream};
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
    /// The buffers that trials are moved between have the batch size in their type, so that
    /// indexing them needs no bounds check.
    alive: Box<[u64; BATCH]>,
    /// The trials still trying in this phase: keys and techniques tried.
    key: Box<[u64; BATCH]>,
    tried: Box<[u64; BATCH]>,
    /// Per trying trial within one attempt: viable-technique index picked, state bits,
    /// disrupt control that interrupted it.
    choice: Vec<u8>,
    state: Vec<u8>,
    ender: Vec<u32>,
    /// Scratch for the pick: the draw, running sums of weights, target, last untried.
    draw: Vec<u64>,
    /// The success threshold of the technique each trying trial picked.
    threshold: Vec<u64>,
    acc: Vec<f64>,
    target: Vec<f64>,
    last: Vec<u8>,
    /// Breaks per control, plus one last entry for `technique-failed`.
    breaks: Vec<u64>,
    /// When outcomes are tracked: the batch position of each trial in `alive` and `key`, and
    /// each trial's outcome: the number of phases it passed, which is the index of the phase
    /// where its chain broke, or `N_PHASES` if it completed.
    alive_id: Box<[u16; BATCH]>,
    key_id: Box<[u16; BATCH]>,
    pub(crate) outcome: Vec<u8>,
}

impl Workspace {
    pub(crate) fn new(n_controls: usize) -> Workspace {
        Workspace {
            alive: Box::new([0; BATCH]),
            key: Box::new([0; BATCH]),
            tried: Box::new([0; BATCH]),
            choice: vec![0; BATCH],
            state: vec![0; BATCH],
            ender: vec![NONE; BATCH],
            draw: vec![0; BATCH],
            threshold: vec![0; BATCH],
            acc: vec![0.0; BATCH],
            target: vec![0.0; BATCH],
            last: vec![0; BATCH],
            breaks: vec![0; n_controls + 1],
            alive_id: Box::new([0; BATCH]),
            key_id: Box::new([0; BATCH]),
            outcome: vec![0; BATCH],
        }
    }
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
        keys.fill_keys(&mut ws.alive[..b]);
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
        keys.fill_keys(&mut batch_keys[..b]);
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
    if plan.paths.is_some() {
        // Attack paths: which techniques a trial may pick depends on how it passed the earlier
        // phases; such plans are played one trial at a time by the reference engine.
        for i in 0..b {
            let s = TrialStream::from_key(ws.alive[i]);
            let outcome = super::trial::run_trial_outcome(plan, s, tally);
            if TRACK {
                ws.outcome[ws.alive_id[i] as usize] = outcome;
            }
        }
        return;
    }
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
        let n_pass = keep::<TRACK>(ws, p, passed);
        let n_fail = if last {
            0
        } else if attempt == 0 {
            retry::<TRACK, true>(ws, p)
        } else {
            retry::<TRACK, false>(ws, p)
        };
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

/// The state bits that decide where a trial goes after an attempt, and their values for a
/// trial that passed the phase and for one that tries again.
pub(super) const SORTED_BY: u8 = SUCCEEDED | EVICTED;
const PASSED: u8 = SUCCEEDED;
const TRY_AGAIN: u8 = 0;

/// Appends the first `p` trying trials that passed to `ws.alive` after its first `passed`;
/// returns how many `ws.alive` then holds.
#[inline(always)]
fn keep<const TRACK: bool>(ws: &mut Workspace, p: usize, passed: usize) -> usize {
    let state = &ws.state[..p];
    let n = append_where(&mut ws.alive, passed, &ws.key[..p], state, PASSED);
    if TRACK {
        let n_id = append_where(&mut ws.alive_id, passed, &ws.key_id[..p], state, PASSED);
        debug_assert_eq!(n, n_id);
    }
    n
}

/// Moves the first `p` trying trials that neither passed nor were evicted to the front of
/// `ws.key` (in order) and adds their technique to `ws.tried` (`FIRST`: the first attempt,
/// whose `tried` is empty); returns how many try again.
#[inline(always)]
fn retry<const TRACK: bool, const FIRST: bool>(ws: &mut Workspace, p: usize) -> usize {
    for (t, &c) in ws.tried[..p].iter_mut().zip(&ws.choice[..p]) {
        let before = if FIRST { 0 } else { *t };
        *t = before | 1 << (c & 63);
    }
    let state = &ws.state[..p];
    let n = retain_where(&mut ws.key, p, state, TRY_AGAIN);
    retain_where(&mut ws.tried, p, state, TRY_AGAIN);
    if TRACK {
        retain_where(&mut ws.key_id, p, state, TRY_AGAIN);
    }
    n
}

/// An element type that trials are moved in, with the fastest way to move it.
trait Moved: Copy {
    /// Compresses the first whole blocks of 8 `src` elements whose state is `sorted` into `dst`
    /// from `n` (see [`append_where`]); returns the new `n` and how many elements of `src` it
    /// handled (none where no vector path applies).
    #[inline(always)]
    fn compress_into(
        _dst: &mut [Self; BATCH],
        n: usize,
        _src: &[Self],
        _state: &[u8],
        _sorted: u8,
    ) -> (usize, usize) {
        (n, 0)
    }

    /// The same in place: the first `state.len()` elements of `buf` compressed to its front.
    #[inline(always)]
    fn compress_in_place(_buf: &mut [Self; BATCH], _state: &[u8], _sorted: u8) -> (usize, usize) {
        (0, 0)
    }
}

impl Moved for u16 {}

impl Moved for u64 {
    #[inline(always)]
    fn compress_into(
        dst: &mut [u64; BATCH],
        n: usize,
        src: &[u64],
        state: &[u8],
        sorted: u8,
    ) -> (usize, usize) {
        simd::compress_into(dst, n, src, state, sorted)
    }

    #[inline(always)]
    fn compress_in_place(buf: &mut [u64; BATCH], state: &[u8], sorted: u8) -> (usize, usize) {
        simd::compress_in_place(buf, state, sorted)
    }
}

/// Writes the `src[i]` whose `state[i]` has the bits [`SORTED_BY`] equal to `sorted` to `dst`
/// from index `n`, in order, and returns the index after the last written. Elements of `dst`
/// from there up to `n + src.len()` may be overwritten.
///
/// Every path gives the same `dst` up to the result (tested against a filter). In the scalar
/// loops indices are reduced modulo `BATCH`, a no-op that spares them bounds checks.
#[inline(always)]
fn append_where<T: Moved>(
    dst: &mut [T; BATCH],
    n: usize,
    src: &[T],
    state: &[u8],
    sorted: u8,
) -> usize {
    assert!(src.len() == state.len() && n + src.len() <= BATCH);
    let (n0, done) = T::compress_into(dst, n, src, state, sorted);
    append_from(dst, n0, src, state, sorted, done)
}

/// The scalar [`append_where`] of the elements of `src` from index `from`: every element is
/// written at the next free place, which only advances past an element that is kept.
#[inline(always)]
fn append_from<T: Moved>(
    dst: &mut [T; BATCH],
    mut n: usize,
    src: &[T],
    state: &[u8],
    sorted: u8,
    from: usize,
) -> usize {
    for (&x, &st) in src[from..].iter().zip(&state[from..]) {
        dst[n % BATCH] = x;
        n += usize::from(st & SORTED_BY == sorted);
    }
    n
}

/// [`append_where`] of the first `p` elements of `buf` to `buf` itself from 0: an element only
/// moves forward.
#[inline(always)]
fn retain_where<T: Moved>(buf: &mut [T; BATCH], p: usize, state: &[u8], sorted: u8) -> usize {
    assert!(p == state.len() && p <= BATCH);
    let (n, done) = T::compress_in_place(buf, state, sorted);
    retain_from(buf, n, p, state, sorted, done)
}

/// The scalar [`retain_where`] of the elements from index `from`, the first `n` places being
/// taken.
#[inline(always)]
fn retain_from<T: Moved>(
    buf: &mut [T; BATCH],
    mut n: usize,
    p: usize,
    state: &[u8],
    sorted: u8,
    from: usize,
) -> usize {
    for i in from..p {
        let i = i % BATCH;
        buf[n % BATCH] = buf[i];
        n += usize::from(state[i] & SORTED_BY == sorted);
    }
    n
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
    // Without deceive or disrupt controls in the phase no trial is deceived or interrupted:
    // those counts are 0 and their sums are left out of the loop.
    let plain = phase.acts(DECEIVE).is_empty() && phase.acts(DISRUPT).is_empty();
    let one_quad = phase.viable.len() <= 4;
    for (quad, viable) in phase.viable.chunks(4).enumerate() {
        let sums = match (plain, one_quad) {
            (true, true) => sum_quad::<true, true>(choice, state, quad),
            (true, false) => sum_quad::<true, false>(choice, state, quad),
            (false, true) => sum_quad::<false, true>(choice, state, quad),
            (false, false) => sum_quad::<false, false>(choice, state, quad),
        };
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

/// The [`COUNTED`] sums of techniques `4 quad .. 4 quad + 4`, as 16-bit fields. `PLAIN`: no
/// trial can be deceived or interrupted (those sums stay 0); `ONE_QUAD`: every choice is
/// below 4.
#[inline(always)]
fn sum_quad<const PLAIN: bool, const ONE_QUAD: bool>(
    choice: &[u8],
    state: &[u8],
    quad: usize,
) -> [u64; COUNTED.len()] {
    let mut sums = [0u64; COUNTED.len()];
    for (&j, &st) in choice.iter().zip(state) {
        let one = if ONE_QUAD || j >> 2 == quad as u8 {
            1u64 << (16 * (j & 3))
        } else {
            0
        };
        for (sum, &(mask, value)) in sums.iter_mut().zip(&COUNTED) {
            if PLAIN && (mask == DECEIVED || mask == INTERRUPTED) {
                continue;
            }
            *sum += if st & mask == value { one } else { 0 };
        }
    }
    sums
}

/// Each of the first `p` trying trials picks a technique into `ws.choice`, and its success
/// threshold into `ws.threshold`.
#[inline(always)]
fn pick(phase: &PhasePlan, phase_idx: usize, attempt: u32, p: usize, ws: &mut Workspace) {
    let off = Slot::new(SlotKind::Pick, phase_idx, attempt, 0).offset();
    let key = &ws.key[..p];
    let choice = &mut ws.choice[..p];
    let threshold = &mut ws.threshold[..p];
    if attempt == 0 {
        let n = phase.viable.len();
        if n <= 4 {
            first_pick::<4>(phase, off, key, choice, threshold);
        } else if n <= 8 {
            first_pick::<8>(phase, off, key, choice, threshold);
        } else if n <= 16 {
            first_pick::<16>(phase, off, key, choice, threshold);
        } else {
            first_pick_any(phase, off, key, choice, threshold, &mut ws.draw[..p]);
        }
        return;
    }
    // `pick_untried` for every trial at once: with w'_j the weight of j if untried and 0 if
    // tried, the running sums over all j equal those over the untried ones (adding +0.0 changes
    // nothing), and as they never decrease, the first untried j with target < sum_j is the
    // number of sums at or below the target; when there is none, the last untried j.
    let n = phase.viable.len();
    let tried = &ws.tried[..p];
    if n <= 4 {
        return later_pick::<4>(phase, off, key, tried, choice, threshold);
    } else if n <= 8 {
        return later_pick::<8>(phase, off, key, tried, choice, threshold);
    } else if n <= 16 {
        return later_pick::<16>(phase, off, key, tried, choice, threshold);
    }
    let weights = &phase.weights;
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
    // The threshold of each trial's technique, chosen without a table lookup (which would not
    // vectorise).
    threshold.fill(0);
    for (j, &t) in phase.success.iter().enumerate() {
        for (th, &c) in threshold.iter_mut().zip(&*choice) {
            *th = if usize::from(c) == j { t } else { *th };
        }
    }
}

/// The pick of a first attempt for a phase of at most `K` viable techniques, in one pass: the
/// number of cumulative thresholds at or below the draw (the last is never), and with it the
/// technique's success threshold (as the cumulative thresholds increase, the last one at or
/// below the draw gives it). Padding the thresholds with `u64::MAX`, which no 53-bit draw
/// reaches, gives every phase of the size class the same fixed loop.
#[inline(always)]
fn first_pick<const K: usize>(
    phase: &PhasePlan,
    off: SlotOffset,
    key: &[u64],
    choice: &mut [u8],
    threshold: &mut [u64],
) {
    let n = phase.viable.len();
    let (mut cumulative, mut success) = ([u64::MAX; K], [0u64; K]);
    cumulative[..n - 1].copy_from_slice(&phase.first_pick[..n - 1]);
    success[..n].copy_from_slice(&phase.success);
    let lanes = choice.iter_mut().zip(threshold.iter_mut());
    for ((c, th), &k) in lanes.zip(key) {
        let d = TrialStream::from_key(k).draw53_at(off);
        let (mut j, mut t) = (0u8, success[0]);
        for (&x, &s) in cumulative[..K - 1].iter().zip(&success[1..]) {
            j += u8::from(d >= x);
            t = if d >= x { s } else { t };
        }
        *c = j;
        *th = t;
    }
}

/// The pick of a later attempt (see [`pick`]) for a phase of at most `K` viable techniques, in
/// one pass per trial: the total of the untried weights, the target, then the running sums
/// again, in the same order and so to the same bits as the pass-per-technique loops. The
/// techniques past the phase's are padded as tried (weight +0.0, never the last untried): their
/// sums equal the total, so they are counted only when every sum is, which picks the last
/// untried either way. The threshold follows the count as in [`first_pick`]: as the sums at or
/// below the target are a prefix, the threshold after the last of them is the picked one's.
#[inline(always)]
fn later_pick<const K: usize>(
    phase: &PhasePlan,
    off: SlotOffset,
    key: &[u64],
    tried: &[u64],
    choice: &mut [u8],
    threshold: &mut [u64],
) {
    let n = phase.viable.len();
    let (mut weights, mut success) = ([0.0f64; K], [0u64; K]);
    weights[..n].copy_from_slice(&phase.weights);
    success[..n].copy_from_slice(&phase.success);
    let padding = !0u64 << n;
    let lanes = choice.iter_mut().zip(threshold.iter_mut());
    for ((c, th), (&k, &t)) in lanes.zip(key.iter().zip(tried)) {
        let t = t | padding;
        let mut total = 0.0;
        for (j, &w) in weights.iter().enumerate() {
            total += untried_weight(w, t, j);
        }
        let target = TrialStream::from_key(k).unit_at(off) * total;
        let (mut sum, mut count, mut next) = (0.0, 0u8, success[0]);
        let (mut last, mut last_t) = (0u8, 0u64);
        for (j, &w) in weights.iter().enumerate() {
            sum += untried_weight(w, t, j);
            let below = sum <= target;
            count += u8::from(below);
            next = if below { success[(j + 1) % K] } else { next };
            let untried = t >> j & 1 == 0;
            last = if untried { j as u8 } else { last };
            last_t = if untried { success[j] } else { last_t };
        }
        let all = usize::from(count) >= n;
        *c = if all { last } else { count };
        *th = if all { last_t } else { next };
    }
}

/// [`first_pick`] for any number of techniques: one pass per cumulative threshold.
#[inline(always)]
fn first_pick_any(
    phase: &PhasePlan,
    off: SlotOffset,
    key: &[u64],
    choice: &mut [u8],
    threshold: &mut [u64],
    draw: &mut [u64],
) {
    for (d, &k) in draw.iter_mut().zip(key) {
        *d = TrialStream::from_key(k).draw53_at(off);
    }
    choice.fill(0);
    threshold.fill(phase.success[0]);
    let cumulative = &phase.first_pick[..phase.first_pick.len() - 1];
    for (&x, &s) in cumulative.iter().zip(&phase.success[1..]) {
        let lanes = choice.iter_mut().zip(&mut *threshold);
        for ((c, th), &d) in lanes.zip(&*draw) {
            *c += u8::from(d >= x);
            *th = if d >= x { s } else { *th };
        }
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
    /// The viable techniques of the phase as a bit set (the choices' possible values).
    all: u64,
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
    ///
    /// The loop is chosen for what is fixed for the phase: whether the control acts on every
    /// technique (then its threshold is the same for all trials) and whether the response is
    /// certain, 0 or 1 (then no slot is read for it).
    #[inline(always)]
    fn roll(
        &mut self,
        a: &PhaseAct,
        skip: u8,
        fire: SlotOffset,
        set: u8,
        resp: Option<SlotOffset>,
    ) -> (u64, u64) {
        let every = a.applies & self.all == self.all;
        let (mode, off) = match resp {
            Some(_) if a.act.response.raw() == 0 => (NO_RESPONSE, fire),
            Some(_) if a.act.response == Threshold::ONE => (CERTAIN_RESPONSE, fire),
            Some(off) => (DRAWN_RESPONSE, off),
            None => (NO_RESPONSE, fire),
        };
        match (every, mode) {
            (true, NO_RESPONSE) => self.roll_as::<true, NO_RESPONSE>(a, skip, fire, set, off),
            (true, CERTAIN_RESPONSE) => {
                self.roll_as::<true, CERTAIN_RESPONSE>(a, skip, fire, set, off)
            }
            (true, _) => self.roll_as::<true, DRAWN_RESPONSE>(a, skip, fire, set, off),
            (false, NO_RESPONSE) => self.roll_as::<false, NO_RESPONSE>(a, skip, fire, set, off),
            (false, CERTAIN_RESPONSE) => {
                self.roll_as::<false, CERTAIN_RESPONSE>(a, skip, fire, set, off)
            }
            (false, _) => self.roll_as::<false, DRAWN_RESPONSE>(a, skip, fire, set, off),
        }
    }

    /// [`Self::roll`] for a control that acts on every technique (`EVERY`) or not, with a
    /// response `MODE` and the response's slot at `resp`.
    #[inline(always)]
    fn roll_as<const EVERY: bool, const MODE: u8>(
        &mut self,
        a: &PhaseAct,
        skip: u8,
        fire: SlotOffset,
        set: u8,
        resp: SlotOffset,
    ) -> (u64, u64) {
        let (mut hits, mut evicts) = (0u64, 0u64);
        let fire_all = a.act.fire.raw();
        let lanes = self.state.iter_mut().zip(self.key).zip(self.choice);
        for ((st, &k), &c) in lanes {
            let t = if EVERY {
                fire_all
            } else {
                fire_threshold(a, c)
            };
            let f = u8::from(*st & skip == 0) & hit(k, fire, t);
            let r = match MODE {
                CERTAIN_RESPONSE => f,
                DRAWN_RESPONSE => f & hit(k, resp, a.act.response.raw()),
                _ => 0,
            };
            *st |= (f * set) | (r * EVICTED);
            hits += u64::from(f);
            evicts += u64::from(r);
        }
        (hits, evicts)
    }
}

/// How a roll treats a control's response: none is rolled (or it never evicts), it always
/// evicts, or it is drawn.
const NO_RESPONSE: u8 = 0;
const CERTAIN_RESPONSE: u8 = 1;
const DRAWN_RESPONSE: u8 = 2;

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
    let n = phase.viable.len();
    let mut g = Lanes {
        all: if n >= 64 { u64::MAX } else { (1 << n) - 1 },
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
    let threshold = &ws.threshold[..p];
    for ((st, &k), &t) in g.state.iter_mut().zip(g.key).zip(threshold) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// States of `p` trials from a fixed xorshift sequence, with every combination of the bits
    /// trials are sorted by (and other bits set too).
    fn states(p: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..p)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as u8 & 0x3f
            })
            .collect()
    }

    /// Moving trials keeps exactly the elements a filter keeps, in order, on whatever path the
    /// processor takes (AVX-512 compress in whole blocks of 8 when it has it), and on the scalar
    /// path alone; lengths cover empty, partial and whole blocks up to a full batch.
    #[test]
    fn moving_trials_keeps_the_filtered_elements_in_order() {
        for (case, p) in [0, 1, 7, 8, 9, 63, 64, 100, 1000, BATCH - 3, BATCH]
            .into_iter()
            .enumerate()
        {
            let state = states(p, case as u64 + 11);
            let src: Vec<u64> = (0..p as u64).map(|i| i.wrapping_mul(GOLDEN) ^ 5).collect();
            for sorted in [PASSED, TRY_AGAIN] {
                let expect: Vec<u64> = (src.iter().zip(&state))
                    .filter(|&(_, &st)| st & SORTED_BY == sorted)
                    .map(|(&x, _)| x)
                    .collect();
                let lead = (BATCH - p).min(5);
                let mut dst = Box::new([u64::MAX; BATCH]);
                let n = append_where(&mut dst, lead, &src, &state, sorted);
                assert_eq!(n, lead + expect.len(), "p = {p}");
                assert_eq!(&dst[lead..n], &expect[..], "append, p = {p}");
                assert!(dst[..lead].iter().all(|&x| x == u64::MAX), "p = {p}");

                let mut scalar = Box::new([u64::MAX; BATCH]);
                let n = append_from(&mut scalar, lead, &src, &state, sorted, 0);
                assert_eq!(&scalar[lead..n], &expect[..], "scalar append, p = {p}");

                let mut buf = Box::new([0u64; BATCH]);
                buf[..p].copy_from_slice(&src);
                let n = retain_where(&mut buf, p, &state, sorted);
                assert_eq!(&buf[..n], &expect[..], "retain, p = {p}");

                buf[..p].copy_from_slice(&src);
                let n = retain_from(&mut buf, 0, p, &state, sorted, 0);
                assert_eq!(&buf[..n], &expect[..], "scalar retain, p = {p}");

                let ids: Vec<u16> = (0..p as u16).collect();
                let mut id_buf = Box::new([0u16; BATCH]);
                id_buf[..p].copy_from_slice(&ids);
                let n = retain_where(&mut id_buf, p, &state, sorted);
                let kept: Vec<u64> = id_buf[..n].iter().map(|&i| src[i as usize]).collect();
                assert_eq!(kept, expect, "ids, p = {p}");
            }
        }
    }

    const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
}
