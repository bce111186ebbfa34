//! Exact agreement: the engine's rates against probabilities computed by enumeration.
//!
//! The enumeration is an independent implementation of the documented semantics, not a copy of
//! the engine. One attempt's outcome distribution is written in closed form from the order of the
//! courses of action (deny, deceive, degrade, disrupt, success roll, detect, destroy); a phase is
//! then enumerated over every pick order of its viable techniques (a recursion over the set of
//! techniques already tried, each pick weighted by weight / total weight of the untried ones), up
//! to `max_attempts` attempts. Chaining the phases gives, per trial: the probability of reaching
//! each phase, of completing the chain, of a break attributed to each control, to
//! `technique-failed` and to `no-viable-technique`, and of each per-technique outcome count (every
//! technique is attempted at most once per trial, so each count is a Bernoulli event per trial).
//!
//! Tolerance: every statistical check allows |observed − exact| ≤ 4 standard errors of the exact
//! value q (SE = sqrt(q(1 − q)/n), n = trials reaching the phase for conditional break rates, all
//! trials otherwise); where q is exactly 0 or 1 the count must match exactly. Seeds are fixed, so
//! each test is deterministic; a correct engine would exceed 4 SE with probability ≈ 6e-5 per
//! check.

use std::error::Error;

use killchain::engine::Plan;
use killchain::phase::{CourseOfAction, N_PHASES, Phase};
use killchain::scenario::Scenario;
use killchain::stats::{Tally, TechniqueCounts};

/// Tolerance of every statistical check, in standard errors of the exact value.
const Z_MAX: f64 = 4.0;

/// Per-technique outcome events, in the order of [`events_of`].
const EVENTS: [&str; 8] = [
    "attempts",
    "prevented",
    "deceived",
    "interrupted",
    "failed",
    "succeeded",
    "detected",
    "evicted",
];
const ATTEMPTS: usize = 0;
const PREVENTED: usize = 1;
const DECEIVED: usize = 2;
const INTERRUPTED: usize = 3;
const FAILED: usize = 4;
const SUCCEEDED: usize = 5;
const DETECTED: usize = 6;
const EVICTED: usize = 7;

fn events_of(c: &TechniqueCounts) -> [u64; 8] {
    [
        c.attempts,
        c.prevented,
        c.deceived,
        c.interrupted,
        c.failed,
        c.succeeded,
        c.detected,
        c.evicted,
    ]
}

fn data_path(name: &str) -> String {
    format!("{}/tests/data/exact/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load_scenario(path: &str) -> Result<Scenario, Box<dyn Error>> {
    Ok(Scenario::from_toml(&std::fs::read_to_string(path)?, path)?)
}

fn load(name: &str) -> Scenario {
    let path = data_path(name);
    load_scenario(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The enumeration
// ---------------------------------------------------------------------------------------------

/// The outcome distribution of one attempt of one technique.
#[derive(Debug, Clone)]
struct Attempt {
    /// Succeeded and nobody evicted: the phase is passed.
    pass: f64,
    /// Chain broken on this attempt, per control (decoy or detection response, or destroy).
    evicted_by: Vec<f64>,
    /// Failed without eviction, ended by this control (deny, deceive, disrupt).
    ended_by: Vec<f64>,
    /// Ran, was not interrupted, failed its success roll, and nobody evicted.
    failed_plain: f64,
    /// Probability of each event of [`EVENTS`] on this attempt.
    events: [f64; 8],
}

impl Attempt {
    /// Probability that the attempt fails and the adversary goes on (to another attempt or not).
    fn fails(&self) -> f64 {
        self.ended_by.iter().sum::<f64>() + self.failed_plain
    }
}

/// (control index, effectiveness, response) of the enabled controls of `action` that act on
/// technique `t` in `phase`, in file order.
fn acting(s: &Scenario, action: CourseOfAction, phase: Phase, t: usize) -> Vec<(usize, f64, f64)> {
    s.controls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.enabled && c.action == action && c.applies_to(phase, t))
        .map(|(i, c)| (i, c.effectiveness.get(), c.response.get()))
        .collect()
}

fn attempt(s: &Scenario, t: usize) -> Attempt {
    let phase = s.techniques[t].phase;
    let n = s.controls.len();
    let mut a = Attempt {
        pass: 0.0,
        evicted_by: vec![0.0; n],
        ended_by: vec![0.0; n],
        failed_plain: 0.0,
        events: [0.0; 8],
    };
    a.events[ATTEMPTS] = 1.0;

    // 1. deny: the first that fires prevents the attempt.
    let mut open = 1.0; // no control has ended the attempt so far
    for (c, e, _) in acting(s, CourseOfAction::Deny, phase, t) {
        a.ended_by[c] += open * e;
        a.events[PREVENTED] += open * e;
        open *= 1.0 - e;
    }
    // 2. deceive: the first that fires diverts; its response may evict.
    for (c, e, r) in acting(s, CourseOfAction::Deceive, phase, t) {
        let p = open * e;
        a.evicted_by[c] += p * r;
        a.ended_by[c] += p * (1.0 - r);
        a.events[DECEIVED] += p;
        open *= 1.0 - e;
    }
    let ran = open;
    // 3. degrade: each multiplies the success probability.
    let mut success = s.techniques[t].success.get();
    for (_, e, _) in acting(s, CourseOfAction::Degrade, phase, t) {
        success *= 1.0 - e;
    }
    // 4. disrupt: interrupted if any fires; the first that fires ended the attempt.
    let mut intact = 1.0;
    let mut first_disrupt = Vec::new();
    for (c, e, _) in acting(s, CourseOfAction::Disrupt, phase, t) {
        first_disrupt.push((c, intact * e));
        intact *= 1.0 - e;
    }
    // 6. detect: each rolls; the first response that evicts breaks the chain.
    let mut stays = 1.0; // nobody has evicted after the attempt ran
    let mut unseen = 1.0;
    for (c, e, r) in acting(s, CourseOfAction::Detect, phase, t) {
        a.evicted_by[c] += ran * stays * e * r;
        stays *= 1.0 - e * r;
        unseen *= 1.0 - e;
    }
    // 7. destroy: the first that fires (unless already evicted) breaks the chain.
    for (c, e, _) in acting(s, CourseOfAction::Destroy, phase, t) {
        a.evicted_by[c] += ran * stays * e;
        stays *= 1.0 - e;
    }
    // 5. the success roll, for an attempt that ran and was not interrupted.
    a.pass = ran * intact * success * stays;
    a.failed_plain = ran * intact * (1.0 - success) * stays;
    for (c, p) in first_disrupt {
        a.ended_by[c] += ran * p * stays;
    }
    a.events[INTERRUPTED] = ran * (1.0 - intact);
    a.events[FAILED] = ran * intact * (1.0 - success);
    a.events[SUCCEEDED] = ran * intact * success;
    a.events[DETECTED] = ran * (1.0 - unseen);
    a.events[EVICTED] = a.evicted_by.iter().sum();

    let total = a.pass + a.fails() + a.events[EVICTED];
    assert!((total - 1.0).abs() < 1e-12, "attempt of {t}: {total}");
    a
}

/// One phase, conditional on reaching it.
#[derive(Debug, Clone)]
struct PhaseExact {
    /// Number of viable techniques.
    viable: usize,
    /// Probability of passing the phase.
    pass: f64,
    /// Probability of a break attributed to each control.
    broken_by: Vec<f64>,
    /// Probability of a break attributed to `technique-failed`.
    technique_failed: f64,
    /// Probability of a break attributed to `no-viable-technique`.
    no_viable: f64,
    /// Per technique (scenario index), probability of each event of [`EVENTS`].
    events: Vec<[f64; 8]>,
}

impl PhaseExact {
    fn broken(&self) -> f64 {
        1.0 - self.pass
    }
}

/// Walks every pick order: `tried` is the set of viable positions already tried, `prob` the
/// probability of reaching this next attempt.
fn explore(
    s: &Scenario,
    viable: &[usize],
    attempts: &[Attempt],
    tried: u64,
    prob: f64,
    out: &mut PhaseExact,
) {
    let untried: Vec<usize> = (0..viable.len())
        .filter(|&j| tried & (1 << j) == 0)
        .collect();
    let total: f64 = untried
        .iter()
        .map(|&j| s.techniques[viable[j]].weight)
        .sum();
    let n_tried = tried.count_ones() as usize + 1; // including this attempt
    let last = n_tried >= s.adversary.max_attempts as usize || n_tried == viable.len();
    for &j in &untried {
        let t = viable[j];
        let p = prob * s.techniques[t].weight / total;
        let a = &attempts[j];
        for (o, e) in out.events[t].iter_mut().zip(a.events) {
            *o += p * e;
        }
        out.pass += p * a.pass;
        for (o, e) in out.broken_by.iter_mut().zip(&a.evicted_by) {
            *o += p * e;
        }
        if last {
            for (o, e) in out.broken_by.iter_mut().zip(&a.ended_by) {
                *o += p * e;
            }
            out.technique_failed += p * a.failed_plain;
        } else {
            explore(s, viable, attempts, tried | (1 << j), p * a.fails(), out);
        }
    }
}

fn phase_exact(s: &Scenario, phase: Phase) -> PhaseExact {
    let viable: Vec<usize> = s
        .techniques_in(phase)
        .filter(|(_, t)| t.viable)
        .map(|(i, _)| i)
        .collect();
    let mut out = PhaseExact {
        viable: viable.len(),
        pass: 0.0,
        broken_by: vec![0.0; s.controls.len()],
        technique_failed: 0.0,
        no_viable: 0.0,
        events: vec![[0.0; 8]; s.techniques.len()],
    };
    if viable.is_empty() {
        out.no_viable = 1.0;
        return out;
    }
    let attempts: Vec<Attempt> = viable.iter().map(|&t| attempt(s, t)).collect();
    explore(s, &viable, &attempts, 0, 1.0, &mut out);
    let broken = out.broken_by.iter().sum::<f64>() + out.technique_failed;
    assert!(
        (out.pass + broken - 1.0).abs() < 1e-12,
        "{phase}: pass {} + broken {broken} != 1",
        out.pass
    );
    out
}

/// The whole scenario, per trial.
#[derive(Debug, Clone)]
struct Exact {
    phases: Vec<PhaseExact>,
    /// Probability of reaching each phase.
    reach: [f64; N_PHASES],
    completed: f64,
    control_breaks: Vec<f64>,
    technique_failed: f64,
    no_viable: f64,
    /// Per technique, probability of each event of [`EVENTS`] in one trial.
    events: Vec<[f64; 8]>,
}

fn enumerate(s: &Scenario) -> Exact {
    let phases: Vec<PhaseExact> = Phase::ALL.iter().map(|&p| phase_exact(s, p)).collect();
    let mut reach = [0.0; N_PHASES];
    let mut r = 1.0;
    for (i, ph) in phases.iter().enumerate() {
        reach[i] = r;
        r *= ph.pass;
    }
    let mut ex = Exact {
        reach,
        completed: r,
        control_breaks: vec![0.0; s.controls.len()],
        technique_failed: 0.0,
        no_viable: 0.0,
        events: vec![[0.0; 8]; s.techniques.len()],
        phases: Vec::new(),
    };
    for (ph, &r) in phases.iter().zip(&reach) {
        for (o, b) in ex.control_breaks.iter_mut().zip(&ph.broken_by) {
            *o += r * b;
        }
        ex.technique_failed += r * ph.technique_failed;
        ex.no_viable += r * ph.no_viable;
        for (o, e) in ex.events.iter_mut().zip(&ph.events) {
            for (o, e) in o.iter_mut().zip(e) {
                *o += r * e;
            }
        }
    }
    ex.phases = phases;
    let total =
        ex.completed + ex.control_breaks.iter().sum::<f64>() + ex.technique_failed + ex.no_viable;
    assert!((total - 1.0).abs() < 1e-12, "outcomes sum to {total}");
    ex
}

// ---------------------------------------------------------------------------------------------
// Comparing the engine with the enumeration
// ---------------------------------------------------------------------------------------------

/// Collects every check of one run, so a failure lists all discrepancies at once.
struct Checks {
    label: String,
    count: usize,
    max_z: f64,
    worst: String,
    failures: Vec<String>,
}

impl Checks {
    fn new(label: &str) -> Checks {
        Checks {
            label: label.to_owned(),
            count: 0,
            max_z: 0.0,
            worst: String::new(),
            failures: Vec::new(),
        }
    }

    /// `k` events in `n > 0` trials against exact probability `q`: within [`Z_MAX`] standard
    /// errors, or exactly equal where `q` is 0 or 1.
    fn rate(&mut self, what: &str, k: u64, n: u64, q: f64) {
        assert!(n > 0, "{what}: no trials");
        self.count += 1;
        if q == 0.0 || q == 1.0 {
            let expected = if q == 0.0 { 0 } else { n };
            if k != expected {
                self.failures.push(format!(
                    "{what}: {k}/{n}, exact value {q} requires {expected}"
                ));
            }
            return;
        }
        let se = (q * (1.0 - q) / n as f64).sqrt();
        let z = (k as f64 / n as f64 - q) / se;
        if z.abs() > self.max_z {
            self.max_z = z.abs();
            self.worst = what.to_owned();
        }
        if z.abs() > Z_MAX {
            self.failures.push(format!(
                "{what}: observed {:.6} ({k}/{n}), exact {q:.6}, z = {z:+.2}",
                k as f64 / n as f64
            ));
        }
    }

    /// Exact equality of two counts.
    fn equal(&mut self, what: &str, got: u64, expected: u64) {
        self.count += 1;
        if got != expected {
            self.failures
                .push(format!("{what}: got {got}, expected {expected}"));
        }
    }

    fn finish(self) -> f64 {
        println!(
            "{}: {} checks, max |z| = {:.3} ({})",
            self.label, self.count, self.max_z, self.worst
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} checks failed:\n  {}",
            self.label,
            self.failures.len(),
            self.count,
            self.failures.join("\n  ")
        );
        self.max_z
    }
}

/// Compares one engine tally with the enumeration; returns the largest |z|.
fn compare(label: &str, s: &Scenario, ex: &Exact, tally: &Tally, trials: u64) -> f64 {
    let mut c = Checks::new(label);
    c.equal("trials", tally.trials, trials);
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        c.rate(
            &format!("{phase}: reached"),
            tally.reached[i],
            trials,
            ex.reach[i],
        );
        if tally.reached[i] > 0 {
            c.rate(
                &format!("{phase}: break rate given reached"),
                tally.broken[i],
                tally.reached[i],
                ex.phases[i].broken(),
            );
        } else {
            assert!(
                ex.reach[i] == 0.0 || ex.reach[i] * (trials as f64) < 1e-3,
                "{phase} never reached although its probability is {}",
                ex.reach[i]
            );
            c.equal(&format!("{phase}: broken"), tally.broken[i], 0);
        }
    }
    c.rate("completed", tally.completed, trials, ex.completed);
    for (i, ctl) in s.controls.iter().enumerate() {
        c.rate(
            &format!("breaks attributed to {}", ctl.id),
            tally.control_breaks[i],
            trials,
            ex.control_breaks[i],
        );
    }
    c.rate(
        "breaks attributed to technique-failed",
        tally.breaks_technique_failed,
        trials,
        ex.technique_failed,
    );
    c.rate(
        "breaks attributed to no-viable-technique",
        tally.breaks_no_viable,
        trials,
        ex.no_viable,
    );
    for (t, tech) in s.techniques.iter().enumerate() {
        for (k, event) in EVENTS.iter().enumerate() {
            c.rate(
                &format!("{}: {event}", tech.id),
                events_of(&tally.techniques[t])[k],
                trials,
                ex.events[t][k],
            );
        }
    }
    c.finish()
}

/// Runs the engine on `s` at a fixed seed and compares it with the enumeration.
fn engine_agrees(label: &str, s: &Scenario, seed: u64, trials: u64) -> f64 {
    let ex = enumerate(s);
    let plan = Plan::new(s);
    let tally = crate::support::run(&plan, seed, trials, None);
    compare(label, s, &ex, &tally, trials)
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Asserts that the scenario exercises what its test claims, so no test is vacuous.
fn assert_covers(s: &Scenario, ex: &Exact, actions: &[CourseOfAction]) {
    for &a in actions {
        let n = s
            .controls
            .iter()
            .filter(|c| c.enabled && c.action == a)
            .count();
        assert!(n > 0, "{}: no enabled {a} control", s.name);
    }
    for (i, c) in s.controls.iter().enumerate() {
        if c.enabled && c.action != CourseOfAction::Degrade {
            let responded = c.response.get() > 0.0 || !c.action.has_response();
            if responded && c.phases.iter().any(|p| ex.reach[p.index()] > 0.0) {
                assert!(
                    ex.control_breaks[i] > 0.0,
                    "{}: control {} never breaks the chain",
                    s.name,
                    c.id
                );
            }
        }
    }
}

#[test]
fn all_six_actions_agree_with_enumeration() {
    let s = load("all-actions.toml");
    let ex = enumerate(&s);
    use CourseOfAction::*;
    assert_covers(&s, &ex, &[Deny, Deceive, Degrade, Disrupt, Detect, Destroy]);
    assert_eq!(s.adversary.max_attempts, 3);
    // Delivery: two of four techniques are not viable.
    assert_eq!(ex.phases[Phase::Delivery.index()].viable, 2);
    // The disabled control never acts.
    let disabled = s.controls.iter().position(|c| !c.enabled).unwrap();
    assert_eq!(ex.control_breaks[disabled], 0.0);
    // Degrade lowers exploitation's success: compare with the scenario without degrade.
    let mut no_degrade = s.clone();
    no_degrade
        .controls
        .retain(|c| c.action != CourseOfAction::Degrade);
    let e2 = enumerate(&no_degrade);
    let expl = Phase::Exploitation.index();
    assert!(ex.phases[expl].broken() > e2.phases[expl].broken() + 0.01);
    engine_agrees("all-actions", &s, 0x5eed_0001, 300_000);
}

#[test]
fn phase_with_nothing_viable_breaks_there() {
    let s = load("no-viable.toml");
    let ex = enumerate(&s);
    let inst = Phase::Installation.index();
    assert_eq!(ex.phases[inst].viable, 0);
    assert_eq!(ex.phases[inst].broken(), 1.0);
    assert_eq!(ex.no_viable, ex.reach[inst]);
    assert!(ex.reach[inst] > 0.3, "installation is reached often enough");
    assert_eq!(ex.reach[Phase::CommandAndControl.index()], 0.0);
    assert_eq!(ex.completed, 0.0);
    engine_agrees("no-viable", &s, 0x5eed_0002, 300_000);
}

#[test]
fn more_attempts_than_viable_techniques() {
    let s = load("attempts-exceed.toml");
    let ex = enumerate(&s);
    for ph in &ex.phases {
        assert!(ph.viable >= 1 && ph.viable < s.adversary.max_attempts as usize);
    }
    // A phase without controls whose only technique always succeeds never breaks.
    assert_eq!(ex.phases[Phase::Weaponization.index()].broken(), 0.0);
    // Deceive and detect with response 0 never evict; the deceive still ends last attempts.
    let id = |name: &str| s.controls.iter().position(|c| c.id == name).unwrap();
    assert_eq!(ex.control_breaks[id("expl-audit")], 0.0);
    assert!(ex.control_breaks[id("recon-tarpit")] > 0.01);
    assert!(ex.completed > 0.05);
    engine_agrees("attempts-exceed", &s, 0x5eed_0003, 300_000);
}

/// Published exact per-phase break probabilities of the benchmark scenario.
const REFERENCE_BREAKS: [f64; N_PHASES] = [
    0.196454, 0.288909, 0.544520, 0.608445, 0.503321, 0.509499, 0.762160,
];
const REFERENCE_COMPLETED: f64 = 0.0059047;

fn reference() -> Scenario {
    let path = format!("{}/benches/data/reference.toml", env!("CARGO_MANIFEST_DIR"));
    load_scenario(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn enumeration_reproduces_published_reference_values() {
    let ex = enumerate(&reference());
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        let got = ex.phases[i].broken();
        assert!(
            (got - REFERENCE_BREAKS[i]).abs() <= 1e-6,
            "{phase}: enumeration {got:.8}, published {}",
            REFERENCE_BREAKS[i]
        );
    }
    assert!(
        (ex.completed - REFERENCE_COMPLETED).abs() <= 1e-7,
        "completed: enumeration {:.9}, published {REFERENCE_COMPLETED}",
        ex.completed
    );
}

#[test]
fn engine_agrees_on_reference_scenario() {
    let s = reference();
    engine_agrees("reference", &s, 20240601, 300_000);
}

fn close(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= 1e-12,
        "{what}: enumeration {got}, by hand {expected}"
    );
}

#[test]
fn enumeration_matches_hand_computed_deny_case() {
    let s = load("hand-deny.toml");
    let ex = enumerate(&s);
    let ctl = |name: &str| s.controls.iter().position(|c| c.id == name).unwrap();
    // Reconnaissance: A (weight 1, success 0.5) and B (weight 3, success 0.8) are viable, C is
    // not; deny 0.3 on both; 2 attempts. A fails with 0.3 + 0.7·0.5, B with 0.3 + 0.7·0.2.
    let fa = 0.3 + 0.7 * 0.5;
    let fb = 0.3 + 0.7 * 0.2;
    let recon = &ex.phases[0];
    close("recon break", recon.broken(), fa * fb);
    // The break goes to deny when the second (last) attempt was denied.
    close(
        "recon deny",
        recon.broken_by[ctl("deny-recon")],
        0.25 * fa * 0.3 + 0.75 * fb * 0.3,
    );
    close(
        "recon technique-failed",
        recon.technique_failed,
        0.25 * fa * (0.7 * 0.2) + 0.75 * fb * (0.7 * 0.5),
    );
    // Weaponization: X, Y, Z (weights 1, 2, 3; failure 0.8, 0.5, 0.2), no controls, 2 attempts:
    // every ordered pair (i, j) contributes w_i/6 · w_j/(6 − w_i) · f_i · f_j.
    let weap = 1.0 / 6.0 * (2.0 / 5.0) * (0.8 * 0.5)
        + 1.0 / 6.0 * (3.0 / 5.0) * (0.8 * 0.2)
        + 2.0 / 6.0 * (1.0 / 4.0) * (0.5 * 0.8)
        + 2.0 / 6.0 * (3.0 / 4.0) * (0.5 * 0.2)
        + 3.0 / 6.0 * (1.0 / 3.0) * (0.2 * 0.8)
        + 3.0 / 6.0 * (2.0 / 3.0) * (0.2 * 0.5);
    close("weaponization break", ex.phases[1].broken(), weap);
    close("weaponization tf", ex.phases[1].technique_failed, weap);
    // Delivery: one viable technique, success 0.9: a second attempt is impossible.
    close("delivery break", ex.phases[2].broken(), 1.0 - 0.9);
    for i in 3..N_PHASES {
        close("certain phase", ex.phases[i].broken(), 0.0);
    }
    close(
        "completed",
        ex.completed,
        (1.0 - fa * fb) * (1.0 - weap) * 0.9,
    );
    // Per-technique attempts: B is tried first with 3/4, second after A failed.
    close("B attempted", ex.events[1][ATTEMPTS], 0.75 + 0.25 * fa);
    close("C attempted", ex.events[2][ATTEMPTS], 0.0);
    engine_agrees("hand-deny", &s, 0x5eed_0101, 200_000);
}

#[test]
fn enumeration_matches_hand_computed_actions_case() {
    let s = load("hand-actions.toml");
    let ex = enumerate(&s);
    let ctl = |name: &str| s.controls.iter().position(|c| c.id == name).unwrap();
    // Reconnaissance: one technique (success 0.6), so one attempt although max_attempts = 2.
    // deceive 0.2 (response 0.5); degrade 0.25; disrupt 0.3 and 0.2; detect 0.5 (response 0.4);
    // destroy 0.1. It passes when not deceived, not interrupted, successful, not evicted.
    let keep = (1.0 - 0.5 * 0.4) * (1.0 - 0.1);
    let recon_pass = 0.8 * ((1.0 - 0.3) * (1.0 - 0.2)) * (0.6 * 0.75) * keep;
    let recon = &ex.phases[0];
    close("recon break", recon.broken(), 1.0 - recon_pass);
    close(
        "recon decoy",
        recon.broken_by[ctl("decoy")],
        0.2 * 0.5 + 0.2 * 0.5,
    );
    close(
        "recon detect",
        recon.broken_by[ctl("detect")],
        0.8 * 0.5 * 0.4,
    );
    close(
        "recon destroy",
        recon.broken_by[ctl("destroy")],
        0.8 * (1.0 - 0.5 * 0.4) * 0.1,
    );
    close(
        "recon disrupt-1",
        recon.broken_by[ctl("disrupt-1")],
        0.8 * 0.3 * keep,
    );
    close(
        "recon disrupt-2",
        recon.broken_by[ctl("disrupt-2")],
        0.8 * 0.7 * 0.2 * keep,
    );
    close("recon degrade", recon.broken_by[ctl("degrade")], 0.0);
    close(
        "recon technique-failed",
        recon.technique_failed,
        0.8 * 0.7 * 0.8 * (1.0 - 0.6 * 0.75) * keep,
    );
    // Weaponization: X (weight 3, success 0.5, detect 0.5 with response 0.2 → eviction 0.1) and
    // Y (weight 1, success 0.4, deny 0.4); 2 attempts. X: evicted 0.1, passes 0.5·0.9, fails
    // 0.5·0.9. Y: passes 0.6·0.4, fails 0.4 + 0.6·0.6.
    let weap = 0.75 * (0.1 + 0.45 * (0.4 + 0.36)) + 0.25 * ((0.4 + 0.36) * (0.1 + 0.45));
    let w = &ex.phases[1];
    close("weaponization break", w.broken(), weap);
    close(
        "weaponization detect-x",
        w.broken_by[ctl("detect-x")],
        0.75 * 0.1 + 0.25 * 0.76 * 0.1,
    );
    close(
        "weaponization deny-y",
        w.broken_by[ctl("deny-y")],
        0.75 * 0.45 * 0.4,
    );
    close(
        "weaponization tf",
        w.technique_failed,
        0.75 * 0.45 * 0.36 + 0.25 * 0.76 * 0.45,
    );
    for i in 2..6 {
        close("certain phase", ex.phases[i].broken(), 0.0);
    }
    // Actions on objectives: nothing viable.
    close("actions break", ex.phases[6].broken(), 1.0);
    close("actions no-viable", ex.phases[6].no_viable, 1.0);
    close(
        "no-viable per trial",
        ex.no_viable,
        recon_pass * (1.0 - weap),
    );
    close("completed", ex.completed, 0.0);
    engine_agrees("hand-actions", &s, 0x5eed_0102, 200_000);
}

/// The product's exact evaluator (`killchain::exact`) and this file's independent enumeration
/// agree to 1e-12 on every shipped and test scenario, with all controls as written and with
/// every control switched on.
#[test]
fn product_exact_evaluator_agrees_with_the_independent_enumeration() {
    let mut paths: Vec<String> = Vec::new();
    for dir in ["scenarios", "tests/data/exact"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "toml") {
                paths.push(p.to_string_lossy().into_owned());
            }
        }
    }
    paths.push("benches/data/reference.toml".to_owned());
    assert!(paths.len() >= 9, "{paths:?}");
    for path in &paths {
        let mut s = load_scenario(path).unwrap();
        for all_on in [false, true] {
            if all_on {
                s.controls.iter_mut().for_each(|c| c.enabled = true);
            }
            let ours = enumerate(&s);
            let product = killchain::exact::evaluate(&s).unwrap();
            let near = |what: &str, a: f64, b: f64| {
                assert!((a - b).abs() < 1e-12, "{path} {what}: {a} vs {b}");
            };
            for i in 0..N_PHASES {
                near("reached", product.reached[i], ours.reach[i]);
            }
            near("completed", product.completed, ours.completed);
            for (c, (a, b)) in product
                .control_breaks
                .iter()
                .zip(&ours.control_breaks)
                .enumerate()
            {
                near(&format!("breaks of control {c}"), *a, *b);
            }
            near(
                "technique-failed",
                product.breaks_technique_failed,
                ours.technique_failed,
            );
            near("no-viable", product.breaks_no_viable, ours.no_viable);
            for (t, (p, o)) in product.techniques.iter().zip(&ours.events).enumerate() {
                let p = [
                    p.attempts,
                    p.prevented,
                    p.deceived,
                    p.interrupted,
                    p.failed,
                    p.succeeded,
                    p.detected,
                    p.evicted,
                ];
                for (k, (a, b)) in p.iter().zip(o).enumerate() {
                    near(&format!("technique {t} {}", EVENTS[k]), *a, *b);
                }
            }
        }
    }
}
