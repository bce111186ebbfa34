//! The batched engine: a batch of trials goes through the chain phase by phase, and each
//! attempt is played for all trials that picked the same technique at once, in branch-free
//! loops over arrays (one loop per control, computing the control's slot for every trial).
//!
//! It reads the same slots as the per-trial reference engine (`trial.rs`) and so produces the
//! same tally to the last count; tests compare the two. Reading a slot that the per-trial engine
//! would skip (a control behind one that already fired) changes nothing: its outcome is masked.
//! All buffers live in a [`Workspace`] sized once per worker; nothing is allocated per trial.

use super::plan::{Act, Plan, TechniquePlan};
use super::trial::pick_untried;
use crate::phase::N_PHASES;
use crate::rng::{Slot, SlotKind, SlotOffset, Threshold, TrialKeys, TrialStream};
use crate::stats::{Tally, TechniqueCounts};

/// Trials per batch: small enough for the buffers to stay in the L1/L2 cache.
pub(crate) const BATCH: usize = 8192;

/// No control (a plain failure).
const NONE: u32 = u32::MAX;

/// Per-trial state bits within one attempt.
const BLOCKED: u8 = 1; // denied or deceived: the attempt did not run
const INTERRUPTED: u8 = 2;
const SUCCEEDED: u8 = 4;
const DETECTED: u8 = 8;
const EVICTED: u8 = 16;

/// Positions of the courses of action in `CourseOfAction::ENGINE_ORDER`.
const DENY: usize = 0;
const DECEIVE: usize = 1;
const DEGRADE: usize = 2;
const DISRUPT: usize = 3;
const DETECT: usize = 4;
const DESTROY: usize = 5;

/// Reusable buffers for one worker.
pub(crate) struct Workspace {
    /// Per batch trial: key, techniques tried in this phase, control that ended the last attempt.
    keys: Vec<u64>,
    tried: Vec<u64>,
    ender: Vec<u32>,
    /// Batch trials still in the chain, and those with another attempt to make.
    alive: Vec<u32>,
    pending: Vec<u32>,
    next_pending: Vec<u32>,
    /// The viable-technique index each pending trial picked, and the trials grouped by it.
    choice: Vec<u8>,
    order: Vec<u32>,
    /// One technique group: keys, state bits, ending control, evicting control.
    g_key: Vec<u64>,
    g_state: Vec<u8>,
    g_ender: Vec<u32>,
    g_evict: Vec<u32>,
    /// Breaks per control, plus one last entry for `technique-failed`.
    breaks: Vec<u64>,
}

impl Workspace {
    pub(crate) fn new(n_controls: usize) -> Workspace {
        Workspace {
            keys: vec![0; BATCH],
            tried: vec![0; BATCH],
            ender: vec![NONE; BATCH],
            alive: Vec::with_capacity(BATCH),
            pending: Vec::with_capacity(BATCH),
            next_pending: Vec::with_capacity(BATCH),
            choice: vec![0; BATCH],
            order: vec![0; BATCH],
            g_key: vec![0; BATCH],
            g_state: vec![0; BATCH],
            g_ender: vec![NONE; BATCH],
            g_evict: vec![NONE; BATCH],
            breaks: vec![0; n_controls + 1],
        }
    }
}

/// Runs the trials whose keys `keys` yields, `n` of them, into `tally`.
///
/// On x86-64 processors with AVX-512 or AVX2 the same code is run compiled for those
/// instruction sets (chosen at run time), which vectorises the 64-bit arithmetic of the
/// per-control loops. Only integer arithmetic and IEEE float operations without contraction
/// are involved, so every path gives the same bits.
pub(crate) fn run_trials(
    plan: &Plan,
    keys: &mut TrialKeys,
    n: u64,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
            // SAFETY: the processor supports every feature the function is compiled for.
            #[allow(unsafe_code)]
            unsafe {
                return run_trials_avx512(plan, keys, n, ws, tally);
            }
        }
        if has!("avx2") && has!("bmi2") {
            // SAFETY: as above.
            #[allow(unsafe_code)]
            unsafe {
                return run_trials_avx2(plan, keys, n, ws, tally);
            }
        }
    }
    run_trials_portable(plan, keys, n, ws, tally);
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
unsafe fn run_trials_avx512(
    plan: &Plan,
    keys: &mut TrialKeys,
    n: u64,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    run_trials_portable(plan, keys, n, ws, tally);
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2,bmi2")]
unsafe fn run_trials_avx2(
    plan: &Plan,
    keys: &mut TrialKeys,
    n: u64,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    run_trials_portable(plan, keys, n, ws, tally);
}

/// The engine for any processor; inlined into the feature-specific copies above.
#[inline(always)]
pub(crate) fn run_trials_portable(
    plan: &Plan,
    keys: &mut TrialKeys,
    mut n: u64,
    ws: &mut Workspace,
    tally: &mut Tally,
) {
    while n > 0 {
        let b = (n.min(BATCH as u64)) as usize;
        for k in &mut ws.keys[..b] {
            *k = keys.next_stream().key();
        }
        run_batch(plan, b, ws, tally);
        n -= b as u64;
    }
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

#[inline(always)]
fn run_batch(plan: &Plan, b: usize, ws: &mut Workspace, tally: &mut Tally) {
    tally.trials += b as u64;
    ws.alive.clear();
    ws.alive.extend(0..b as u32);
    for phase_idx in 0..N_PHASES {
        if ws.alive.is_empty() {
            return;
        }
        run_phase(plan, phase_idx, ws, tally);
    }
    tally.completed += ws.alive.len() as u64;
}

/// Plays one phase for every alive trial; afterwards `ws.alive` holds those that passed it.
#[inline(always)]
fn run_phase(plan: &Plan, phase_idx: usize, ws: &mut Workspace, tally: &mut Tally) {
    let phase = &plan.phases[phase_idx];
    let m = ws.alive.len() as u64;
    tally.reached[phase_idx] += m;
    let n = phase.viable.len();
    if n == 0 {
        tally.broken[phase_idx] += m;
        tally.breaks_no_viable += m;
        ws.alive.clear();
        return;
    }
    let attempts = (plan.max_attempts as usize).min(n) as u32;
    std::mem::swap(&mut ws.pending, &mut ws.alive);
    ws.alive.clear();
    for &t in &ws.pending {
        ws.tried[t as usize] = 0;
    }
    let mut evicted = 0u64;
    for attempt in 0..attempts {
        // Each pending trial picks a technique.
        let pick = Slot::new(SlotKind::Pick, phase_idx, attempt, 0);
        if attempt == 0 {
            let off = pick.offset();
            for (c, &t) in ws.choice.iter_mut().zip(&ws.pending) {
                let u = TrialStream::from_key(ws.keys[t as usize]).draw53_at(off);
                *c = phase.first_pick.iter().map(|&x| u8::from(u >= x)).sum();
            }
        } else {
            for (c, &t) in ws.choice.iter_mut().zip(&ws.pending) {
                let u = TrialStream::from_key(ws.keys[t as usize]).unit(pick);
                let j = pick_untried(&phase.weights, ws.tried[t as usize], u);
                *c = j as u8;
            }
        }
        // Group the pending trials by the technique they picked (counting sort).
        let mut start = [0u32; 65];
        for &c in &ws.choice[..ws.pending.len()] {
            start[c as usize + 1] += 1;
        }
        for j in 0..n {
            start[j + 1] += start[j];
        }
        let mut fill = start;
        for (&c, &t) in ws.choice.iter().zip(&ws.pending) {
            ws.order[fill[c as usize] as usize] = t;
            fill[c as usize] += 1;
        }
        ws.next_pending.clear();
        for j in 0..n {
            let group = start[j] as usize..start[j + 1] as usize;
            if group.is_empty() {
                continue;
            }
            let ti = phase.viable[j] as usize;
            evicted += attempt_group(plan, ti, j, phase_idx, attempt, group, ws, tally);
        }
        std::mem::swap(&mut ws.pending, &mut ws.next_pending);
        if ws.pending.is_empty() {
            break;
        }
    }
    // Attempts or viable techniques ran out.
    for &t in &ws.pending {
        let e = ws.ender[t as usize];
        let slot = if e == NONE {
            plan.n_controls
        } else {
            e as usize
        };
        ws.breaks[slot] += 1;
    }
    tally.broken[phase_idx] += evicted + ws.pending.len() as u64;
    ws.pending.clear();
}

/// One attempt of technique `ti` (viable index `j`) by the trials `ws.order[group]`.
/// Returns how many of them were evicted; the rest go to `ws.alive` (passed) or
/// `ws.next_pending` (failed).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attempt_group(
    plan: &Plan,
    ti: usize,
    j: usize,
    phase_idx: usize,
    attempt: u32,
    group: std::ops::Range<usize>,
    ws: &mut Workspace,
    tally: &mut Tally,
) -> u64 {
    let t: &TechniquePlan = &plan.techniques[ti];
    let k = group.len();
    let members = &ws.order[group];
    for (gk, &m) in ws.g_key[..k].iter_mut().zip(members) {
        *gk = ws.keys[m as usize];
    }
    ws.g_state[..k].fill(0);
    ws.g_ender[..k].fill(NONE);
    ws.g_evict[..k].fill(NONE);
    let mut g = Group {
        key: &ws.g_key[..k],
        state: &mut ws.g_state[..k],
        ender: &mut ws.g_ender[..k],
        evict: &mut ws.g_evict[..k],
    };
    let fire = |a: &Act| Slot::new(SlotKind::Fire, phase_idx, attempt, a.tag).offset();
    let resp = |a: &Act| Slot::new(SlotKind::Response, phase_idx, attempt, a.tag).offset();
    let fired = &mut tally.control_fired;
    let mut c = TechniqueCounts {
        attempts: k as u64,
        ..TechniqueCounts::default()
    };

    // 1. deny: the first that fires prevents the attempt.
    for a in plan.acts(t, DENY) {
        let f = g.roll(BLOCKED, fire(a), a.fire, BLOCKED, Some(a.control));
        fired[a.control as usize] += f;
        c.prevented += f;
    }
    // 2. deceive: the first that fires diverts the attempt; its response may evict.
    for a in plan.acts(t, DECEIVE) {
        let f = g.deceive((fire(a), a.fire), (resp(a), a.response), a.control);
        fired[a.control as usize] += f;
        c.deceived += f;
    }
    // 3. degrade: deterministic, folded into `t.success`; it acts on every attempt that runs.
    let degrade = plan.acts(t, DEGRADE);
    if !degrade.is_empty() {
        let running = k as u64 - c.prevented - c.deceived;
        for a in degrade {
            fired[a.control as usize] += running;
        }
    }
    // 4. disrupt: the first that fires interrupts the running attempt.
    for a in plan.acts(t, DISRUPT) {
        let f = g.roll(
            BLOCKED | INTERRUPTED,
            fire(a),
            a.fire,
            INTERRUPTED,
            Some(a.control),
        );
        fired[a.control as usize] += f;
        c.interrupted += f;
    }
    // 5. the success roll, unless interrupted.
    let success = Slot::new(SlotKind::Success, phase_idx, attempt, 0).offset();
    c.succeeded = g.roll(BLOCKED | INTERRUPTED, success, t.success, SUCCEEDED, None);
    c.failed = k as u64 - c.prevented - c.deceived - c.interrupted - c.succeeded;
    // 6. detect: each rolls; the first response that evicts breaks the chain.
    for a in plan.acts(t, DETECT) {
        let f = g.detect((fire(a), a.fire), (resp(a), a.response), a.control);
        fired[a.control as usize] += f;
    }
    // 7. destroy: the first that fires ends the operation.
    for a in plan.acts(t, DESTROY) {
        let f = g.destroy((fire(a), a.fire), a.control);
        fired[a.control as usize] += f;
    }

    // Sort the trials by outcome without branching on it.
    let bit = 1u64 << j;
    let (mut n_alive, mut n_pend) = (ws.alive.len(), ws.next_pending.len());
    ws.alive.resize(n_alive + k, 0);
    ws.next_pending.resize(n_pend + k, 0);
    let mut n_evicted = 0u64;
    for (i, &m) in members.iter().enumerate() {
        let st = g.state[i];
        let out = st & EVICTED != 0;
        let pass = !out & (st & SUCCEEDED != 0);
        let fail = !out & !pass;
        c.detected += u64::from(st & DETECTED != 0);
        n_evicted += u64::from(out);
        ws.breaks[if out {
            g.evict[i] as usize
        } else {
            plan.n_controls
        }] += u64::from(out);
        ws.alive[n_alive] = m;
        n_alive += usize::from(pass);
        ws.next_pending[n_pend] = m;
        n_pend += usize::from(fail);
        ws.ender[m as usize] = g.ender[i];
        ws.tried[m as usize] |= bit;
    }
    ws.alive.truncate(n_alive);
    ws.next_pending.truncate(n_pend);
    c.evicted = n_evicted;
    tally.techniques[ti] += &c;
    n_evicted
}

/// The state of one technique group during an attempt.
struct Group<'a> {
    key: &'a [u64],
    state: &'a mut [u8],
    ender: &'a mut [u32],
    evict: &'a mut [u32],
}

/// Whether the draw at `off` falls below `t`, as 0 or 1, without branching.
#[inline(always)]
fn hit(key: u64, off: SlotOffset, t: Threshold) -> u8 {
    u8::from(TrialStream::from_key(key).draw53_at(off) < t.raw())
}

/// [`hit`] that reads no slot when the outcome is certain (`t` is 0 or 1).
#[inline(always)]
fn hit_or_certain(key: u64, off: SlotOffset, t: Threshold) -> u8 {
    if t == Threshold::ONE {
        1
    } else if t.raw() == 0 {
        0
    } else {
        hit(key, off, t)
    }
}

/// `if f { new } else { old }` for a 0/1 flag, written so it compiles to a select.
#[inline(always)]
fn select(f: u8, new: u32, old: u32) -> u32 {
    if f != 0 { new } else { old }
}

impl Group<'_> {
    /// For each trial whose state has none of `skip`: roll `t` at `off`; where it hits, set
    /// the bits `set` and, if `ender` is given, record it as the control that ended the attempt.
    /// Returns the number of hits.
    #[inline(always)]
    fn roll(
        &mut self,
        skip: u8,
        off: SlotOffset,
        t: Threshold,
        set: u8,
        ender: Option<u32>,
    ) -> u64 {
        if t.raw() == 0 {
            return 0;
        }
        let mut hits = 0u64;
        for i in 0..self.state.len() {
            let st = self.state[i];
            let f = u8::from(st & skip == 0) & hit(self.key[i], off, t);
            self.state[i] = st | (f * set);
            if let Some(c) = ender {
                self.ender[i] = select(f, c, self.ender[i]);
            }
            hits += u64::from(f);
        }
        hits
    }

    /// Deceive: a hit blocks the attempt and ends it; a response hit after it evicts.
    #[inline(always)]
    fn deceive(
        &mut self,
        fire: (SlotOffset, Threshold),
        resp: (SlotOffset, Threshold),
        control: u32,
    ) -> u64 {
        if fire.1.raw() == 0 {
            return 0;
        }
        let mut hits = 0u64;
        for i in 0..self.state.len() {
            let st = self.state[i];
            let f = u8::from(st & BLOCKED == 0) & hit(self.key[i], fire.0, fire.1);
            let r = f & hit_or_certain(self.key[i], resp.0, resp.1);
            self.state[i] = st | (f * BLOCKED) | (r * EVICTED);
            self.ender[i] = select(f, control, self.ender[i]);
            self.evict[i] = select(r, control, self.evict[i]);
            hits += u64::from(f);
        }
        hits
    }

    /// Detect: every attempt that ran and is not yet evicted rolls; a detection's response hit
    /// evicts.
    #[inline(always)]
    fn detect(
        &mut self,
        fire: (SlotOffset, Threshold),
        resp: (SlotOffset, Threshold),
        control: u32,
    ) -> u64 {
        if fire.1.raw() == 0 {
            return 0;
        }
        let mut hits = 0u64;
        for i in 0..self.state.len() {
            let st = self.state[i];
            let f = u8::from(st & (BLOCKED | EVICTED) == 0) & hit(self.key[i], fire.0, fire.1);
            let r = f & hit_or_certain(self.key[i], resp.0, resp.1);
            self.state[i] = st | (f * DETECTED) | (r * EVICTED);
            self.evict[i] = select(r, control, self.evict[i]);
            hits += u64::from(f);
        }
        hits
    }

    /// Destroy: the first hit on an attempt that ran and is not yet evicted evicts.
    #[inline(always)]
    fn destroy(&mut self, fire: (SlotOffset, Threshold), control: u32) -> u64 {
        if fire.1.raw() == 0 {
            return 0;
        }
        let mut hits = 0u64;
        for i in 0..self.state.len() {
            let st = self.state[i];
            let f = u8::from(st & (BLOCKED | EVICTED) == 0) & hit(self.key[i], fire.0, fire.1);
            self.state[i] = st | (f * EVICTED);
            self.evict[i] = select(f, control, self.evict[i]);
            hits += u64::from(f);
        }
        hits
    }
}
