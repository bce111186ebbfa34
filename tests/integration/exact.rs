//! Exact agreement: the engine's rates against probabilities computed by enumeration.
//!
//! The enumeration is an independent implementation of the documented semantics, not a copy of
//! the engine. One attempt's outcome distribution is written in closed form from the order of the
//! courses of action (deny, deceive, degrade, disrupt, success roll, detect, destroy). The
//! campaign is then walked through the phases along every history: in each phase, every pick
//! order of the techniques viable for this history (a recursion over the techniques already
//! tried, each pick weighted by weight / total weight of the untried ones), up to `max_attempts`
//! attempts; the phase is then left along each technique it can be passed with (the pick orders
//! whose last attempt passes with it, summed), into the next phase with that technique appended
//! to the history, the sequence of techniques the campaign passed each phase with. A technique with an `after` list is viable in a history only if that sequence holds one
//! of the listed techniques (and its requirements hold). The history is carried whole, never
//! reduced to a state, so the walk visits every way through the chain separately. It gives, per
//! trial: the probability of reaching each phase, of a break there, of completing the chain, of a
//! break attributed to each control, to `technique-failed` and to `no-viable-technique`, the
//! expected number of attempts each control acts on, and the probability of each per-technique
//! outcome count (every technique is attempted at most once per trial, so each count is a
//! Bernoulli event per trial).
//!
//! Tolerance: every statistical check allows |observed − exact| ≤ 4 standard errors of the exact
//! value q (SE = sqrt(q(1 − q)/n), n = trials reaching the phase for conditional break rates, all
//! trials otherwise); where q is exactly 0 or 1 the count must match exactly. A control's firings
//! per trial are a count of up to m (the attempts it can act on in one trial), not a Bernoulli
//! event when m > 1: its SE uses the bound Var ≤ E[X²] − q² ≤ m·q − q². Seeds are fixed, so
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
    /// Per control, probability that it acts on this attempt (the `fired` count): the deny,
    /// deceive or disrupt that ended it, every degrade of an attempt that ran, each detect that
    /// rolled a detection before any eviction, the destroy that evicted.
    fired: Vec<f64>,
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
        fired: vec![0.0; n],
    };
    a.events[ATTEMPTS] = 1.0;

    // 1. deny: the first that fires prevents the attempt.
    let mut open = 1.0; // no control has ended the attempt so far
    for (c, e, _) in acting(s, CourseOfAction::Deny, phase, t) {
        a.ended_by[c] += open * e;
        a.events[PREVENTED] += open * e;
        a.fired[c] += open * e;
        open *= 1.0 - e;
    }
    // 2. deceive: the first that fires diverts; its response may evict.
    for (c, e, r) in acting(s, CourseOfAction::Deceive, phase, t) {
        let p = open * e;
        a.evicted_by[c] += p * r;
        a.ended_by[c] += p * (1.0 - r);
        a.events[DECEIVED] += p;
        a.fired[c] += p;
        open *= 1.0 - e;
    }
    let ran = open;
    // 3. degrade: each multiplies the success probability (and acts on every attempt that ran).
    let mut success = s.techniques[t].success.get();
    for (c, e, _) in acting(s, CourseOfAction::Degrade, phase, t) {
        success *= 1.0 - e;
        a.fired[c] += ran;
    }
    // 4. disrupt: interrupted if any fires; the first that fires ended the attempt.
    let mut intact = 1.0;
    let mut first_disrupt = Vec::new();
    for (c, e, _) in acting(s, CourseOfAction::Disrupt, phase, t) {
        first_disrupt.push((c, intact * e));
        a.fired[c] += ran * intact * e;
        intact *= 1.0 - e;
    }
    // 6. detect: each rolls; the first response that evicts breaks the chain.
    let mut stays = 1.0; // nobody has evicted after the attempt ran
    let mut unseen = 1.0;
    for (c, e, r) in acting(s, CourseOfAction::Detect, phase, t) {
        a.fired[c] += ran * stays * e;
        a.evicted_by[c] += ran * stays * e * r;
        stays *= 1.0 - e * r;
        unseen *= 1.0 - e;
    }
    // 7. destroy: the first that fires (unless already evicted) breaks the chain.
    for (c, e, _) in acting(s, CourseOfAction::Destroy, phase, t) {
        a.fired[c] += ran * stays * e;
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

/// One phase, conditional on reaching it: averaged over every way a campaign reaches it (which
/// differ only when some technique has an `after` list). All zero for a phase no campaign
/// reaches.
#[derive(Debug, Clone)]
struct PhaseExact {
    /// Number of techniques viable for some campaign that reaches the phase.
    viable: usize,
    /// Probability of passing the phase.
    pass: f64,
    /// Probability of a break attributed to each control.
    broken_by: Vec<f64>,
    /// Probability of a break attributed to `technique-failed`.
    technique_failed: f64,
    /// Probability of a break attributed to `no-viable-technique`.
    no_viable: f64,
}

impl PhaseExact {
    /// Probability of a break here, as the sum of its attributions.
    fn broken(&self) -> f64 {
        self.broken_by.iter().sum::<f64>() + self.technique_failed + self.no_viable
    }
}

/// The whole scenario, per trial.
#[derive(Debug, Clone)]
struct Exact {
    phases: Vec<PhaseExact>,
    /// Probability of reaching each phase.
    reach: [f64; N_PHASES],
    /// Probability of a break at each phase.
    broken: [f64; N_PHASES],
    completed: f64,
    control_breaks: Vec<f64>,
    /// Per control, expected number of attempts it acts on in one trial.
    control_fired: Vec<f64>,
    technique_failed: f64,
    no_viable: f64,
    /// Per technique, probability of each event of [`EVENTS`] in one trial.
    events: Vec<[f64; 8]>,
}

/// What the walk over every history of a campaign adds up, per trial.
struct Sums {
    ex: Exact,
    /// Per phase and control, probability of a break there attributed to it.
    broken_by: Vec<Vec<f64>>,
    technique_failed: [f64; N_PHASES],
    no_viable: [f64; N_PHASES],
    /// Per phase and technique: viable for some campaign that reaches the phase.
    ever_viable: Vec<Vec<bool>>,
    /// Ends of a campaign's walk visited with nonzero probability: completions, and breaks by
    /// eviction (one per attempt), by the last attempt failing, by no viable technique.
    histories: u64,
}

/// The techniques of `phase` that a campaign may use after passing the earlier phases with the
/// techniques `passed`: those whose requirements hold and whose `after` list is empty or names
/// one of `passed`.
fn viable_after(s: &Scenario, phase: Phase, passed: &[usize]) -> Vec<usize> {
    s.techniques_in(phase)
        .filter(|(_, t)| {
            t.viable && (t.after.is_empty() || t.after.iter().any(|a| passed.contains(a)))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Every way a campaign can go on from phase `i`, which it reached with probability `prob` after
/// passing phases 0..i with the techniques `passed` (one per phase, in order: the campaign's
/// whole history, never summarised).
fn walk(
    s: &Scenario,
    attempts: &[Attempt],
    passed: &mut Vec<usize>,
    i: usize,
    prob: f64,
    sums: &mut Sums,
) {
    if prob == 0.0 {
        return;
    }
    if i == N_PHASES {
        sums.ex.completed += prob;
        sums.histories += 1;
        return;
    }
    sums.ex.reach[i] += prob;
    let viable = viable_after(s, Phase::ALL[i], passed);
    for &t in &viable {
        sums.ever_viable[i][t] = true;
    }
    if viable.is_empty() {
        sums.no_viable[i] += prob;
        sums.ex.no_viable += prob;
        sums.ex.broken[i] += prob;
        sums.histories += 1;
        return;
    }
    // Probability of passing this phase with each technique (pick orders that end with the same
    // technique passing leave the same history).
    let mut pass_with = vec![0.0; s.techniques.len()];
    explore(
        s,
        attempts,
        i,
        &viable,
        &mut Vec::new(),
        prob,
        &mut pass_with,
        sums,
    );
    for t in viable {
        passed.push(t);
        walk(s, attempts, passed, i + 1, pass_with[t], sums);
        passed.pop();
    }
}

/// Walks every pick order in phase `i` among the techniques `viable`: `tried` holds the
/// techniques already tried (each failed without eviction), `prob` the probability of reaching
/// this next attempt. Adds the probability of passing with each technique to `pass_with`.
#[allow(clippy::too_many_arguments)]
fn explore(
    s: &Scenario,
    attempts: &[Attempt],
    i: usize,
    viable: &[usize],
    tried: &mut Vec<usize>,
    prob: f64,
    pass_with: &mut [f64],
    sums: &mut Sums,
) {
    let untried: Vec<usize> = viable
        .iter()
        .copied()
        .filter(|t| !tried.contains(t))
        .collect();
    let total: f64 = untried.iter().map(|&t| s.techniques[t].weight).sum();
    let n_tried = tried.len() + 1; // including this attempt
    let last = n_tried >= s.adversary.max_attempts as usize || n_tried == viable.len();
    for &t in &untried {
        let p = prob * s.techniques[t].weight / total;
        let a = &attempts[t];
        for (o, e) in sums.ex.events[t].iter_mut().zip(a.events) {
            *o += p * e;
        }
        for (o, f) in sums.ex.control_fired.iter_mut().zip(&a.fired) {
            *o += p * f;
        }
        for (c, e) in a.evicted_by.iter().enumerate() {
            sums.ex.control_breaks[c] += p * e;
            sums.broken_by[i][c] += p * e;
            sums.ex.broken[i] += p * e;
        }
        if p * a.events[EVICTED] > 0.0 {
            sums.histories += 1;
        }
        pass_with[t] += p * a.pass;
        if last {
            for (c, e) in a.ended_by.iter().enumerate() {
                sums.ex.control_breaks[c] += p * e;
                sums.broken_by[i][c] += p * e;
            }
            sums.ex.technique_failed += p * a.failed_plain;
            sums.technique_failed[i] += p * a.failed_plain;
            sums.ex.broken[i] += p * a.fails();
            if p * a.fails() > 0.0 {
                sums.histories += 1;
            }
        } else {
            tried.push(t);
            explore(
                s,
                attempts,
                i,
                viable,
                tried,
                p * a.fails(),
                pass_with,
                sums,
            );
            tried.pop();
        }
    }
}

fn enumerate(s: &Scenario) -> Exact {
    enumerate_counting(s).0
}

/// The enumeration, and the number of ends of histories it walked (see [`Sums::histories`]).
fn enumerate_counting(s: &Scenario) -> (Exact, u64) {
    let (n_c, n_t) = (s.controls.len(), s.techniques.len());
    let attempts: Vec<Attempt> = (0..n_t).map(|t| attempt(s, t)).collect();
    let mut sums = Sums {
        ex: Exact {
            phases: Vec::new(),
            reach: [0.0; N_PHASES],
            broken: [0.0; N_PHASES],
            completed: 0.0,
            control_breaks: vec![0.0; n_c],
            control_fired: vec![0.0; n_c],
            technique_failed: 0.0,
            no_viable: 0.0,
            events: vec![[0.0; 8]; n_t],
        },
        broken_by: vec![vec![0.0; n_c]; N_PHASES],
        technique_failed: [0.0; N_PHASES],
        no_viable: [0.0; N_PHASES],
        ever_viable: vec![vec![false; n_t]; N_PHASES],
        histories: 0,
    };
    walk(s, &attempts, &mut Vec::new(), 0, 1.0, &mut sums);
    let mut ex = sums.ex;
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        let r = ex.reach[i];
        let given = |x: f64| if r > 0.0 { x / r } else { 0.0 };
        let passed = ex.reach.get(i + 1).copied().unwrap_or(ex.completed);
        let ph = PhaseExact {
            viable: sums.ever_viable[i].iter().filter(|&&v| v).count(),
            pass: given(passed),
            broken_by: sums.broken_by[i].iter().map(|&b| given(b)).collect(),
            technique_failed: given(sums.technique_failed[i]),
            no_viable: given(sums.no_viable[i]),
        };
        if r > 0.0 {
            assert!(
                (ph.pass + ph.broken() - 1.0).abs() < 1e-12,
                "{phase}: pass {} + broken {} != 1",
                ph.pass,
                ph.broken()
            );
        }
        assert!(
            (passed + ex.broken[i] - r).abs() < 1e-12,
            "{phase}: reached {r}, passed {passed}, broken {}",
            ex.broken[i]
        );
        ex.phases.push(ph);
    }
    let total =
        ex.completed + ex.control_breaks.iter().sum::<f64>() + ex.technique_failed + ex.no_viable;
    assert!((total - 1.0).abs() < 1e-12, "outcomes sum to {total}");
    (ex, sums.histories)
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

    /// `sum` firings of a control in `n > 0` trials against its exact expected number `q` per
    /// trial, each trial firing it at most `m` times: within [`Z_MAX`] standard errors, with
    /// Var ≤ m·q − q² (from X ≤ m, so X² ≤ m·X); exactly equal where that bound is 0.
    fn mean(&mut self, what: &str, sum: u64, n: u64, q: f64, m: u64) {
        assert!(n > 0, "{what}: no trials");
        if m == 1 {
            return self.rate(what, sum, n, q);
        }
        self.count += 1;
        let var = m as f64 * q - q * q;
        if var <= 1e-12 {
            let expected = (q * n as f64).round() as u64;
            if sum != expected {
                self.failures.push(format!(
                    "{what}: {sum} in {n} trials, exact mean {q} requires {expected}"
                ));
            }
            return;
        }
        let z = (sum as f64 / n as f64 - q) / (var / n as f64).sqrt();
        if z.abs() > self.max_z {
            self.max_z = z.abs();
            self.worst = what.to_owned();
        }
        if z.abs() > Z_MAX {
            self.failures.push(format!(
                "{what}: observed {:.6} per trial ({sum}/{n}), exact {q:.6}, z = {z:+.2} (bound)",
                sum as f64 / n as f64
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
        if tally.reached[i] > 0 && ex.reach[i] > 0.0 {
            c.rate(
                &format!("{phase}: break rate given reached"),
                tally.broken[i],
                tally.reached[i],
                ex.phases[i].broken(),
            );
        } else if tally.reached[i] == 0 {
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
    for (i, ctl) in s.controls.iter().enumerate() {
        c.mean(
            &format!("attempts {} acted on", ctl.id),
            tally.control_fired[i],
            trials,
            ex.control_fired[i],
            max_firings(s, i),
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

/// Most attempts control `c` can act on in one trial: per phase, the attempts there (at most
/// `max_attempts`, at most one per technique it acts on).
fn max_firings(s: &Scenario, c: usize) -> u64 {
    let ctl = &s.controls[c];
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let on = s
                .techniques_in(phase)
                .filter(|(t, tech)| tech.viable && ctl.applies_to(phase, *t))
                .count() as u64;
            on.min(u64::from(s.adversary.max_attempts))
        })
        .sum()
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

/// Asserts that the product's exact evaluator and this file's enumeration agree to 1e-12 on every
/// figure of `s`: reached, broken, completed, per control breaks and firings, technique-failed,
/// no-viable-technique, and every count of every technique.
fn product_agrees(label: &str, s: &Scenario) -> Exact {
    let ours = enumerate(s);
    let product = killchain::exact::evaluate(s).unwrap();
    let mut failures = Vec::new();
    let mut near = |what: &str, a: f64, b: f64| {
        if (a - b).abs() >= 1e-12 || a.is_nan() || b.is_nan() {
            failures.push(format!("{what}: product {a:.15}, enumeration {b:.15}"));
        }
    };
    near("trials", product.trials, 1.0);
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        near(
            &format!("{phase}: reached"),
            product.reached[i],
            ours.reach[i],
        );
        near(
            &format!("{phase}: broken"),
            product.broken[i],
            ours.broken[i],
        );
    }
    near("completed", product.completed, ours.completed);
    for (c, ctl) in s.controls.iter().enumerate() {
        near(
            &format!("breaks of {}", ctl.id),
            product.control_breaks[c],
            ours.control_breaks[c],
        );
        near(
            &format!("firings of {}", ctl.id),
            product.control_fired[c],
            ours.control_fired[c],
        );
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
            near(&format!("{} {}", s.techniques[t].id, EVENTS[k]), *a, *b);
        }
    }
    assert!(
        failures.is_empty(),
        "{label}: the exact evaluator and the enumeration disagree:\n  {}",
        failures.join("\n  ")
    );
    ours
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
            product_agrees(&format!("{path} (all on: {all_on})"), &s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attack paths (`after`)
// ---------------------------------------------------------------------------------------------

fn technique(s: &Scenario, id: &str) -> usize {
    s.techniques.iter().position(|t| t.id == id).unwrap()
}

fn control(s: &Scenario, id: &str) -> usize {
    s.controls.iter().position(|c| c.id == id).unwrap()
}

/// `tests/data/exact/paths.toml` with each (old, new) replacement made once, parsed.
fn paths_variant(edits: &[(&str, &str)]) -> Scenario {
    let path = data_path("paths.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (old, new) in edits {
        assert_eq!(text.matches(old).count(), 1, "{old:?} in {path}");
        text = text.replacen(old, new, 1);
    }
    Scenario::from_toml(&text, &path).unwrap_or_else(|e| panic!("{path} edited: {e}"))
}

/// The same scenario with every `after` list emptied.
fn without_paths(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.techniques.iter_mut().for_each(|t| t.after.clear());
    s
}

/// On the attack-paths scenario the product's exact evaluator and the independent enumeration
/// agree to 1e-12 on every figure; the scenario exercises what it claims, and its paths matter.
#[test]
fn paths_exact_evaluator_agrees_with_the_independent_enumeration() {
    let s = load("paths.toml");
    assert!(s.has_paths());
    assert_eq!(s.adversary.max_attempts, 2);
    let ex = product_agrees("paths.toml", &s);
    let (_, ends) = enumerate_counting(&s);
    println!("paths.toml: {ends} ends of histories walked");
    let t = |id: &str| technique(&s, id);
    let c = |id: &str| control(&s, id);
    let attempts = |id: &str| ex.events[t(id)][ATTEMPTS];
    use CourseOfAction::*;
    assert_covers(&s, &ex, &[Deny, Detect, Disrupt]);
    // Every technique is attempted in some campaign, and every control breaks some chain.
    for tech in &s.techniques {
        assert!(
            ex.events[t(&tech.id)][ATTEMPTS] > 0.0,
            "{} never tried",
            tech.id
        );
    }
    // A phase with no viable technique after one path: a campaign installed with the implant
    // only has nothing to use at actions on objectives.
    let actions = Phase::ActionsOnObjectives.index();
    assert!(ex.phases[actions].no_viable > 0.05);
    for (i, ph) in ex.phases.iter().enumerate() {
        assert!(i == actions || ph.no_viable == 0.0, "{}", Phase::ALL[i]);
    }
    close(
        "no-viable per trial",
        ex.no_viable,
        ex.reach[actions] * ex.phases[actions].no_viable,
    );
    // The VPN exploit's only follow-up is the web shell: tried once by every campaign that got
    // in with the exploit, and denied hard.
    close(
        "web-shell attempts",
        attempts("web-shell"),
        ex.events[t("vpn-cve")][SUCCEEDED],
    );
    close(
        "web-shell prevented",
        ex.events[t("web-shell")][PREVENTED],
        0.95 * attempts("web-shell"),
    );
    // A path across two phases: the RMM tool is tried only after bought credentials, which pass
    // exploitation only through the VPN login.
    assert!(attempts("rmm-tool") <= ex.events[t("vpn-login")][SUCCEEDED] + 1e-15);
    // Without the paths the same techniques and controls give other figures.
    let free = enumerate(&without_paths(&s));
    assert_eq!(free.no_viable, 0.0);
    assert!(
        free.completed > 1.2 * ex.completed,
        "{} vs {}",
        free.completed,
        ex.completed
    );
    // A control on one path leaves the other paths' figures as they are: without MFA the
    // phishing path's techniques are tried exactly as often, the VPN login's path more often.
    let mut no_mfa = s.clone();
    no_mfa.controls[c("mfa")].enabled = false;
    let e2 = product_agrees("paths.toml without mfa", &no_mfa);
    for id in [
        "phish",
        "user-exec",
        "macro",
        "loader",
        "vpn-cve",
        "web-shell",
    ] {
        for (k, event) in EVENTS.iter().enumerate() {
            let (a, b) = (ex.events[t(id)][k], e2.events[t(id)][k]);
            assert!((a - b).abs() < 1e-15, "{id} {event}: {a} vs {b}");
        }
    }
    println!(
        "paths.toml: completed {}, without paths {}, without mfa {}; rmm-tool attempts {}, without mfa {}",
        ex.completed,
        free.completed,
        e2.completed,
        attempts("rmm-tool"),
        e2.events[t("rmm-tool")][ATTEMPTS]
    );
    assert!(e2.events[t("rmm-tool")][ATTEMPTS] > 2.0 * attempts("rmm-tool"));
    assert!(e2.completed > 1.2 * ex.completed);
}

#[test]
fn engine_agrees_on_attack_paths() {
    let s = load("paths.toml");
    engine_agrees("paths", &s, 0x5eed_0201, 300_000);
}

/// Variants of the attack-paths scenario, built by editing its text: one attempt per phase; and
/// three attempts with macros blocked (an `after` technique whose requirement fails), no RMM tool
/// in the estate, and MFA disabled. The exact evaluator and the engine agree with the enumeration
/// on each.
#[test]
fn attack_path_variants_agree_with_enumeration() {
    let one = paths_variant(&[("\nmax_attempts = 2", "\nmax_attempts = 1")]);
    assert_eq!(one.adversary.max_attempts, 1);
    let ex = product_agrees("paths.toml, max_attempts = 1", &one);
    // One attempt: a phase is broken by its first failure, so no failed technique gives way.
    let phish = technique(&one, "phish");
    let bought = technique(&one, "bought-creds");
    let vpn = technique(&one, "vpn-cve");
    close(
        "delivery attempts with one attempt",
        ex.events[phish][ATTEMPTS] + ex.events[bought][ATTEMPTS] + ex.events[vpn][ATTEMPTS],
        ex.reach[Phase::Delivery.index()],
    );
    engine_agrees("paths, one attempt", &one, 0x5eed_0202, 200_000);

    let other = paths_variant(&[
        ("\nmax_attempts = 2", "\nmax_attempts = 3"),
        ("macros_blocked = false", "macros_blocked = true"),
        ("rmm_in_estate = true", "rmm_in_estate = false"),
        (
            "techniques = [\"vpn-login\"]\neffectiveness = 0.8",
            "techniques = [\"vpn-login\"]\neffectiveness = 0.8\nenabled = false",
        ),
    ]);
    let ex = product_agrees("paths.toml, three attempts, facts flipped, no mfa", &other);
    for id in ["macro", "rmm-tool"] {
        assert_eq!(ex.events[technique(&other, id)][ATTEMPTS], 0.0, "{id}");
    }
    assert_eq!(ex.control_fired[control(&other, "mfa")], 0.0);
    // Only the loader leads on from installation now, so the implant's campaigns all end at
    // actions on objectives with nothing viable.
    assert!(ex.no_viable > 0.05);
    engine_agrees("paths, three attempts", &other, 0x5eed_0203, 200_000);
}

/// A two-phase path by hand. Delivery: `a` (weight 1, success 0.5) and `b` (weight 1, success
/// 1); exploitation: `x` (after a, success 1) and `y` (after b, success 0.5); every other phase
/// one technique that always succeeds; no controls.
#[test]
fn attack_paths_match_hand_computed_case() {
    let text = |max_attempts: u32| {
        let one = |id: &str, phase: &str| {
            format!(
                "[[adversary.techniques]]\nid = \"{id}\"\nphase = \"{phase}\"\nsuccess = 1.0\n\n"
            )
        };
        format!(
            "[scenario]\nname = \"Exact: hand-computed paths\"\nseed = 7101\n\n\
             [adversary]\nmax_attempts = {max_attempts}\n\n\
             {}{}\
             [[adversary.techniques]]\nid = \"a\"\nphase = \"delivery\"\nweight = 1\nsuccess = 0.5\n\n\
             [[adversary.techniques]]\nid = \"b\"\nphase = \"delivery\"\nweight = 1\nsuccess = 1.0\n\n\
             [[adversary.techniques]]\nid = \"x\"\nphase = \"exploitation\"\nsuccess = 1.0\nafter = [\"a\"]\n\n\
             [[adversary.techniques]]\nid = \"y\"\nphase = \"exploitation\"\nsuccess = 0.5\nafter = [\"b\"]\n\n\
             {}{}{}",
            one("r", "reconnaissance"),
            one("w", "weaponization"),
            one("i", "installation"),
            one("c", "command_and_control"),
            one("o", "actions_on_objectives"),
        )
    };
    for (max_attempts, hand) in [
        // One attempt. Delivery picks a or b with 1/2 each. With a (1/2), it passes with 1/2:
        // 1/4 reaches exploitation, where only x is viable and always succeeds; 1/4 breaks
        // (technique-failed). With b (1/2) it always passes: 1/2 reaches exploitation, where
        // only y is viable: 1/4 completes, 1/4 breaks (technique-failed).
        // completed = 0.5·0.5·1 + 0.5·1·0.5 = 0.5; reached[exploitation] = 0.25 + 0.5 = 0.75;
        // x is attempted 0.25, y 0.5; a and b 0.5 each.
        (
            1,
            Hand {
                completed: 0.5,
                reached_exploitation: 0.75,
                broken_delivery: 0.25,
                broken_exploitation: 0.25,
                attempts: [0.5, 0.5, 0.25, 0.5],
            },
        ),
        // Two attempts. a first (1/2): passes with a 1/4; fails 1/4, then b passes: 1/4.
        // b first (1/2): passes with b 1/2. Delivery never breaks; passed with a 0.25, with b
        // 0.5 + 0.25 = 0.75. Exploitation has one viable technique on each path, so one
        // attempt: after a, x completes 0.25; after b, y completes 0.75·0.5 = 0.375 and breaks
        // 0.375. completed = 0.25 + 0.375 = 0.625; reached[exploitation] = 1; a is attempted
        // 0.5, b 0.5 + 0.25 = 0.75, x 0.25, y 0.75.
        (
            2,
            Hand {
                completed: 0.625,
                reached_exploitation: 1.0,
                broken_delivery: 0.0,
                broken_exploitation: 0.375,
                attempts: [0.5, 0.75, 0.25, 0.75],
            },
        ),
    ] {
        let s = Scenario::from_toml(&text(max_attempts), "hand-paths.toml").unwrap();
        assert!(s.has_paths());
        let ours = enumerate(&s);
        let product = killchain::exact::evaluate(&s).unwrap();
        let (d, e) = (Phase::Delivery.index(), Phase::Exploitation.index());
        let check = |what: &str, p: f64, o: f64, hand: f64| {
            let what = format!("max_attempts {max_attempts}: {what}");
            assert!(
                (p - hand).abs() <= 1e-12,
                "{what}: exact evaluator {p}, by hand {hand}"
            );
            assert!(
                (o - hand).abs() <= 1e-12,
                "{what}: enumeration {o}, by hand {hand}"
            );
        };
        check(
            "completed",
            product.completed,
            ours.completed,
            hand.completed,
        );
        check(
            "reached exploitation",
            product.reached[e],
            ours.reach[e],
            hand.reached_exploitation,
        );
        check(
            "reached installation",
            product.reached[e + 1],
            ours.reach[e + 1],
            hand.completed,
        );
        check(
            "broken at delivery",
            product.broken[d],
            ours.broken[d],
            hand.broken_delivery,
        );
        check(
            "broken at exploitation",
            product.broken[e],
            ours.broken[e],
            hand.broken_exploitation,
        );
        check(
            "technique-failed",
            product.breaks_technique_failed,
            ours.technique_failed,
            hand.broken_delivery + hand.broken_exploitation,
        );
        check("no-viable", product.breaks_no_viable, ours.no_viable, 0.0);
        for (id, hand) in ["a", "b", "x", "y"].into_iter().zip(hand.attempts) {
            let t = technique(&s, id);
            check(
                &format!("{id} attempts"),
                product.techniques[t].attempts,
                ours.events[t][ATTEMPTS],
                hand,
            );
        }
        engine_agrees(
            &format!("hand paths, max_attempts {max_attempts}"),
            &s,
            0x5eed_0210 + u64::from(max_attempts),
            100_000,
        );
    }
}

/// Hand-computed figures of [`attack_paths_match_hand_computed_case`].
struct Hand {
    completed: f64,
    reached_exploitation: f64,
    broken_delivery: f64,
    broken_exploitation: f64,
    /// Attempts of a, b, x, y per trial.
    attempts: [f64; 4],
}
