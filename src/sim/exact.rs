//! Exact evaluation: the probabilities that the Monte Carlo engine estimates, computed by
//! enumeration under the same semantics, with no sampling noise.
//!
//! Once a trial reaches a phase, what happens there depends only on the order in which the
//! adversary picks techniques and on the controls' probabilities. One attempt's outcome
//! distribution has a closed form (the courses of action act in a fixed order); a phase is a
//! forward pass over the sets of techniques already tried (weighted sampling without
//! replacement, memoised by set); the chain multiplies the phases' pass probabilities. This
//! module works from the validated `Scenario` directly and shares no code with the engine, so the
//! two check each other.

use std::collections::BTreeMap;

use crate::phase::{CourseOfAction, Phase};
use crate::scenario::{PathBits, Scenario};
use crate::stats::{Counts, TechniqueCounts};

/// Most technique sets one phase may visit before exact evaluation is refused.
pub const MAX_STATES: u64 = 1 << 20;

/// Why a scenario cannot be evaluated exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "phase \"{phase}\" would need {states} sets of tried techniques ({viable} viable techniques, up to {attempts} attempts); exact evaluation stops at {max}: use `killchain run` (Monte Carlo) instead"
)]
pub struct TooLarge {
    /// The phase.
    pub phase: Phase,
    /// Sets it would visit (saturating).
    pub states: u64,
    /// Viable techniques in the phase.
    pub viable: usize,
    /// Attempts per phase.
    pub attempts: usize,
    /// The limit, [`MAX_STATES`].
    pub max: u64,
}

/// What can end one attempt, with its probability.
#[derive(Debug, Default)]
struct AttemptOdds {
    /// The technique succeeded and no control evicted.
    pass: f64,
    /// Chain broken by a control: (control index, probability).
    evict: Vec<(usize, f64)>,
    /// Attempt failed, ended by a control (deny, deceive, disrupt) or by nobody.
    fail: Vec<(Option<usize>, f64)>,
    /// Expected technique outcome counts of this one attempt.
    counts: TechniqueCounts<f64>,
    /// Probability each control acts on this attempt.
    fired: Vec<(usize, f64)>,
}

impl AttemptOdds {
    fn fail_total(&self) -> f64 {
        self.fail.iter().map(|(_, p)| p).sum()
    }
}

/// The closed-form outcome distribution of one attempt of technique `ti`.
fn attempt(s: &Scenario, ti: usize) -> AttemptOdds {
    let phase = s.techniques[ti].phase;
    let acting = |action: CourseOfAction| {
        s.controls
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.enabled && c.action == action && c.applies_to(phase, ti))
            .map(|(i, c)| (i, c.effectiveness.get(), c.response.get()))
    };
    let mut o = AttemptOdds {
        counts: TechniqueCounts {
            attempts: 1.0,
            ..TechniqueCounts::default()
        },
        ..AttemptOdds::default()
    };
    // deny and deceive act before the attempt runs; `free` is the probability none stopped it.
    let mut free = 1.0;
    for (c, e, _) in acting(CourseOfAction::Deny) {
        let f = free * e;
        o.fired.push((c, f));
        o.fail.push((Some(c), f));
        o.counts.prevented += f;
        free -= f;
    }
    for (c, e, r) in acting(CourseOfAction::Deceive) {
        let f = free * e;
        o.fired.push((c, f));
        o.evict.push((c, f * r));
        o.fail.push((Some(c), f * (1.0 - r)));
        o.counts.deceived += f;
        o.counts.evicted += f * r;
        free -= f;
    }
    let ran = free;
    let mut success = s.techniques[ti].success.get();
    for (c, e, _) in acting(CourseOfAction::Degrade) {
        o.fired.push((c, ran));
        success *= 1.0 - e;
    }
    let mut running = ran;
    let mut interrupted = Vec::new();
    for (c, e, _) in acting(CourseOfAction::Disrupt) {
        let f = running * e;
        o.fired.push((c, f));
        interrupted.push((c, f));
        o.counts.interrupted += f;
        running -= f;
    }
    let succeeded = running * success;
    let failed = running * (1.0 - success);
    o.counts.succeeded = succeeded;
    o.counts.failed = failed;
    // detect and destroy act on an attempt that ran, independently of how it went.
    let mut stays = 1.0; // probability no detect or destroy control has evicted yet
    let mut undetected = 1.0;
    for (c, e, r) in acting(CourseOfAction::Detect) {
        let f = stays * e;
        o.fired.push((c, ran * f));
        o.evict.push((c, ran * f * r));
        undetected *= 1.0 - e;
        stays -= f * r;
    }
    for (c, e, _) in acting(CourseOfAction::Destroy) {
        let f = stays * e;
        o.fired.push((c, ran * f));
        o.evict.push((c, ran * f));
        stays -= f;
    }
    o.counts.detected = ran * (1.0 - undetected);
    o.counts.evicted += ran * (1.0 - stays);
    o.pass = succeeded * stays;
    o.fail.push((None, failed * stays));
    o.fail
        .extend(interrupted.into_iter().map(|(c, f)| (Some(c), f * stays)));
    o
}

/// One phase, conditional on reaching it.
#[derive(Debug, Default)]
struct PhaseOdds {
    pass: f64,
    control_breaks: Vec<f64>,
    technique_failed: f64,
    no_viable: f64,
    control_fired: Vec<f64>,
    /// (technique index, expected counts given the phase is reached).
    techniques: Vec<(usize, TechniqueCounts<f64>)>,
    /// (technique index, probability the phase is passed with it), for attack paths.
    pass_by: Vec<(usize, f64)>,
}

/// Number of technique sets of size below `attempts` among `n`, saturating at `u64::MAX`.
fn state_count(n: usize, attempts: usize) -> u64 {
    let mut total: u128 = 0;
    let mut binom: u128 = 1; // C(n, a)
    for a in 0..attempts {
        total = total.saturating_add(binom);
        binom = binom.saturating_mul((n - a) as u128) / (a as u128 + 1);
    }
    u64::try_from(total).unwrap_or(u64::MAX)
}

/// One phase for a campaign whose path allows the techniques `allowed` says yes to.
fn phase_odds(
    s: &Scenario,
    phase: Phase,
    allowed: impl Fn(usize) -> bool,
) -> Result<PhaseOdds, TooLarge> {
    let n_controls = s.controls.len();
    let mut out = PhaseOdds {
        control_breaks: vec![0.0; n_controls],
        control_fired: vec![0.0; n_controls],
        ..PhaseOdds::default()
    };
    let viable: Vec<(usize, f64)> = s
        .techniques_in(phase)
        .filter(|&(i, t)| t.viable && allowed(i))
        .map(|(i, t)| (i, t.weight))
        .collect();
    let n = viable.len();
    if n == 0 {
        out.no_viable = 1.0;
        return Ok(out);
    }
    let attempts = (s.adversary.max_attempts as usize).min(n);
    let states = state_count(n, attempts);
    if states > MAX_STATES {
        return Err(TooLarge {
            phase,
            states,
            viable: n,
            attempts,
            max: MAX_STATES,
        });
    }
    let odds: Vec<AttemptOdds> = viable.iter().map(|&(ti, _)| attempt(s, ti)).collect();
    let mut counts = vec![TechniqueCounts::<f64>::default(); n];
    let mut pass_by = vec![0.0; n];
    // Probability of having tried exactly this set (and failed every attempt so far).
    let mut layer: BTreeMap<u64, f64> = BTreeMap::from([(0, 1.0)]);
    for a in 0..attempts {
        let last = a + 1 == attempts;
        let mut next = BTreeMap::new();
        for (&tried, &p_set) in &layer {
            let untried = || (0..n).filter(move |j| tried & (1 << j) == 0);
            let remaining: f64 = untried().map(|j| viable[j].1).sum();
            for j in untried() {
                let p = p_set * viable[j].1 / remaining;
                let o = &odds[j];
                counts[j].add_scaled(&o.counts, p);
                for &(c, f) in &o.fired {
                    out.control_fired[c] += p * f;
                }
                out.pass += p * o.pass;
                pass_by[j] += p * o.pass;
                for &(c, f) in &o.evict {
                    out.control_breaks[c] += p * f;
                }
                if last {
                    for &(ender, f) in &o.fail {
                        match ender {
                            Some(c) => out.control_breaks[c] += p * f,
                            None => out.technique_failed += p * f,
                        }
                    }
                } else {
                    *next.entry(tried | 1 << j).or_insert(0.0) += p * o.fail_total();
                }
            }
        }
        layer = next;
    }
    out.techniques = viable.iter().map(|&(ti, _)| ti).zip(counts).collect();
    out.pass_by = viable.iter().map(|&(ti, _)| ti).zip(pass_by).collect();
    Ok(out)
}

/// The probability that a trial reaching `phase` passes it (clamped to [0, 1] as [`evaluate`]
/// multiplies it): it depends only on the phase's techniques and on the enabled controls acting
/// in the phase, so `optimize` computes it once per subset of a phase's candidates. The product
/// over [`Phase::ALL`] in order, starting from 1, is [`evaluate`]'s `completed` to the bit.
///
/// Without attack paths only: with `after` lists a phase's outcome depends on the earlier ones.
pub fn phase_pass(s: &Scenario, phase: Phase) -> Result<f64, TooLarge> {
    debug_assert!(!s.has_paths(), "a phase judged alone has no path");
    Ok(phase_odds(s, phase, |_| true)?.pass.clamp(0.0, 1.0))
}

/// Where the campaigns that pass phase `i` of `o` from path state `state` go, in the order
/// [`evaluate`] adds them: `add(exit state, probability)`, once with the pass probability unless
/// the technique they pass with is one a later `after` list names.
fn exits(o: &PhaseOdds, paths: &PathBits, state: u64, i: usize, mut add: impl FnMut(u64, f64)) {
    let exit = |&(ti, _): &(usize, f64)| paths.passed(ti, state, i);
    let stay = state & paths.live.get(i + 1).copied().unwrap_or(0);
    let first = o.pass_by.first().map_or(stay, exit);
    if o.pass_by.iter().all(|e| exit(e) == first) {
        add(first, o.pass.clamp(0.0, 1.0));
    } else {
        for e in &o.pass_by {
            add(exit(e), e.1);
        }
    }
}

/// One phase of a campaign's chain, for each path state in `states`: where the campaigns
/// entering the phase in that state and passing it go, as (exit state, probability) in the
/// order [`evaluate`] adds them. Chaining these phase by phase from state 0 (each exit's
/// probability times its entry's, summed per exit state in the order of the entry states, then
/// of the exits) gives [`evaluate`]'s `completed` to the bit; `optimize` keeps them once per
/// subset of a phase's candidates. Without paths every list is one pair: (0, [`phase_pass`]).
pub fn phase_exits(
    s: &Scenario,
    paths: &PathBits,
    phase: Phase,
    states: &[u64],
) -> Result<Vec<Vec<(u64, f64)>>, TooLarge> {
    let i = phase.index();
    // States that allow the same techniques share one enumeration.
    let mut odds: BTreeMap<u64, PhaseOdds> = BTreeMap::new();
    let barred = |state: u64| {
        (s.techniques_in(phase).enumerate())
            .filter(|&(_, (ti, _))| !paths.allows(ti, state))
            .fold(0u64, |m, (j, _)| m | 1 << j)
    };
    let mut out = Vec::with_capacity(states.len());
    for &state in states {
        let key = barred(state);
        if let std::collections::btree_map::Entry::Vacant(e) = odds.entry(key) {
            e.insert(phase_odds(s, phase, |ti| paths.allows(ti, state))?);
        }
        let mut list = Vec::new();
        exits(&odds[&key], paths, state, i, |exit, p| list.push((exit, p)));
        out.push(list);
    }
    Ok(out)
}

/// Evaluates a scenario exactly: the counts of one trial (`trials` 1), each a probability or
/// an expected number of attempts per trial.
///
/// With attack paths (`after`) the chain is a small Markov chain over phases: the state entering
/// a phase is which of the techniques later `after` lists name the campaign passed with; each
/// phase is enumerated once per set of techniques its states allow, and the probability of
/// each state is carried forward. Without paths there is one state, and this is the product of
/// the phases' pass probabilities.
pub fn evaluate(s: &Scenario) -> Result<Counts<f64>, TooLarge> {
    let mut r = Counts::new(s.controls.len(), s.techniques.len());
    r.trials = 1.0;
    let paths = s.path_bits();
    // Probability of reaching the phase in each path state.
    let mut states: BTreeMap<u64, f64> = BTreeMap::from([(0, 1.0)]);
    for phase in Phase::ALL {
        let i = phase.index();
        // The phase once per set of techniques the states allow (by the bits of those barred).
        let barred = |state: u64| {
            (s.techniques_in(phase).enumerate())
                .filter(|&(_, (ti, _))| !paths.allows(ti, state))
                .fold(0u64, |m, (j, _)| m | 1 << j)
        };
        let mut odds: BTreeMap<u64, PhaseOdds> = BTreeMap::new();
        // Sets of tried techniques visited over every allowed set, and path states.
        let mut work = 0u64;
        for &state in states.keys() {
            let key = barred(state);
            if let std::collections::btree_map::Entry::Vacant(e) = odds.entry(key) {
                let o = phase_odds(s, phase, |ti| paths.allows(ti, state))?;
                let n = o.techniques.len();
                let attempts = (s.adversary.max_attempts as usize).min(n);
                work = work.saturating_add(state_count(n, attempts));
                if work.saturating_add(states.len() as u64) > MAX_STATES {
                    return Err(TooLarge {
                        phase,
                        states: work.saturating_add(states.len() as u64),
                        viable: n,
                        attempts,
                        max: MAX_STATES,
                    });
                }
                e.insert(o);
            }
        }
        let mut next: BTreeMap<u64, f64> = BTreeMap::new();
        r.reached[i] = states.values().sum();
        for (&state, &reach) in &states {
            let o = &odds[&barred(state)];
            // The break probability as the sum of its attributions: non-negative terms, so a
            // phase that cannot break gives exactly 0 (1 − pass could round to −2e-16).
            let breaks: f64 =
                o.control_breaks.iter().sum::<f64>() + o.technique_failed + o.no_viable;
            r.broken[i] += reach * breaks.min(1.0);
            for (total, p) in r.control_fired.iter_mut().zip(&o.control_fired) {
                *total += reach * p;
            }
            for (total, p) in r.control_breaks.iter_mut().zip(&o.control_breaks) {
                *total += reach * p;
            }
            r.breaks_technique_failed += reach * o.technique_failed;
            r.breaks_no_viable += reach * o.no_viable;
            for (ti, c) in &o.techniques {
                r.techniques[*ti].add_scaled(c, reach);
            }
            exits(o, &paths, state, i, |exit, p| {
                *next.entry(exit).or_insert(0.0) += reach * p;
            });
        }
        states = next;
    }
    r.completed = states.values().sum();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(body: &str) -> Scenario {
        let mut toml = String::from("[scenario]\nname = \"x\"\n[adversary]\nmax_attempts = 2\n");
        for p in Phase::ALL {
            if !body.contains(&format!("phase = \"{p}\"")) {
                toml += &format!(
                    "[[adversary.techniques]]\nid = \"t-{p}\"\nphase = \"{p}\"\nsuccess = 1.0\n"
                );
            }
        }
        toml += body;
        Scenario::from_toml(&toml, "x.toml").unwrap_or_else(|d| panic!("{d}"))
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    /// Delivery: "a" (weight 1, success 0.5) and "b" (weight 3, success 0.8); a deny of 0.3 on
    /// both and a detect of 0.5 with response 0.4 on "b" only; two attempts.
    #[test]
    fn retries_with_weights_deny_and_detect_match_the_hand_computation() {
        let s = scenario(
            r#"
[[adversary.techniques]]
id = "a"
phase = "delivery"
weight = 1
success = 0.5
[[adversary.techniques]]
id = "b"
phase = "delivery"
weight = 3
success = 0.8
[[controls]]
id = "gw"
action = "deny"
phases = ["delivery"]
effectiveness = 0.3
[[controls]]
id = "ids"
action = "detect"
phases = ["delivery"]
techniques = ["b"]
effectiveness = 0.5
response = 0.4
"#,
        );
        let r = evaluate(&s).unwrap();
        // One attempt of a: pass 0.7*0.5; evicted 0; fail 0.3 (gw) + 0.35 (none).
        // One attempt of b: ran 0.7; eviction 0.7*0.2 = 0.14; pass 0.7*0.8*0.8 = 0.448;
        //   fail 0.3 (gw) + 0.7*0.2*0.8 = 0.112 (none).
        let (pass_a, fail_a) = (0.35, 0.65);
        let (pass_b, evict_b, fail_b) = (0.448, 0.14, 0.412);
        let pass = 0.25 * (pass_a + fail_a * pass_b) + 0.75 * (pass_b + fail_b * pass_a);
        let d = Phase::Delivery.index();
        close(r.reached[d], 1.0);
        close(r.broken[d], 1.0 - pass);
        close(
            r.control_breaks[1],
            0.75 * evict_b + 0.25 * fail_a * evict_b,
        );
        // Second-attempt failures are attributed to whoever ended the last attempt.
        let gw = 0.25 * fail_a * 0.3 + 0.75 * fail_b * 0.3;
        close(r.control_breaks[0], gw);
        close(
            r.breaks_technique_failed,
            0.25 * fail_a * 0.112 + 0.75 * fail_b * 0.35,
        );
        close(
            r.techniques[s.techniques.iter().position(|t| t.id == "a").unwrap()].attempts,
            0.25 + 0.75 * fail_b,
        );
        close(r.completed, pass);
    }

    #[test]
    fn a_phase_without_viable_technique_breaks_every_chain_reaching_it() {
        let s = scenario(
            r#"
[environment]
usb_allowed = false
[[adversary.techniques]]
id = "usb"
phase = "installation"
success = 1.0
requires = ["usb_allowed"]
"#,
        );
        let r = evaluate(&s).unwrap();
        let i = Phase::Installation.index();
        assert_eq!(r.broken[i], 1.0);
        assert_eq!(r.breaks_no_viable, 1.0);
        assert_eq!(r.reached[i + 1], 0.0);
        assert_eq!(r.completed, 0.0);
    }

    #[test]
    fn each_action_alone_has_its_closed_form() {
        // One technique (success 0.9) and one control (0.4; response 0.5 where it has one).
        for (action, response, pass, by_control) in [
            ("deny", "", 0.6 * 0.9, 0.4),
            ("deceive", "response = 0.5", 0.6 * 0.9, 0.4),
            ("degrade", "", 0.9 * 0.6, 0.0),
            ("disrupt", "", 0.6 * 0.9, 0.4),
            ("detect", "response = 0.5", 0.9 * 0.8, 0.2),
            ("destroy", "", 0.9 * 0.6, 0.4),
        ] {
            let s = scenario(&format!(
                "[[adversary.techniques]]\nid = \"x\"\nphase = \"exploitation\"\nsuccess = 0.9\n[[controls]]\nid = \"c\"\naction = \"{action}\"\nphases = [\"exploitation\"]\neffectiveness = 0.4\n{response}\n"
            ));
            let r = evaluate(&s).unwrap();
            let e = Phase::Exploitation.index();
            close(r.reached[e + 1], pass);
            close(r.control_breaks[0], by_control);
            close(r.breaks_technique_failed, 1.0 - pass - by_control);
        }
    }

    #[test]
    fn the_product_of_the_phase_passes_is_the_completion_probability_to_the_bit() {
        let s = scenario(
            r#"
[[adversary.techniques]]
id = "a"
phase = "delivery"
weight = 2
success = 0.6
[[adversary.techniques]]
id = "b"
phase = "delivery"
success = 0.7
[[controls]]
id = "gw"
action = "deny"
phases = ["delivery"]
effectiveness = 0.3
[[controls]]
id = "edr"
action = "detect"
phases = ["exploitation"]
effectiveness = 0.5
response = 0.9
"#,
        );
        let passes: Vec<f64> = (Phase::ALL.iter())
            .map(|&p| phase_pass(&s, p).unwrap())
            .collect();
        let product = passes.iter().fold(1.0, |r, p| r * p);
        assert_eq!(product.to_bits(), evaluate(&s).unwrap().completed.to_bits());
        close(passes[Phase::Exploitation.index()], 1.0 - 0.5 * 0.9);
        assert!(passes[Phase::Delivery.index()] < 0.9, "{passes:?}");
    }

    #[test]
    fn too_many_technique_sets_are_refused_with_advice() {
        assert_eq!(state_count(3, 2), 1 + 3);
        assert_eq!(state_count(64, 64), u64::MAX);
        assert_eq!(state_count(30, 30), (1 << 30) - 1);
        let mut body = String::from("[adversary]\n");
        for k in 0..30 {
            body += &format!(
                "[[adversary.techniques]]\nid = \"d{k}\"\nphase = \"delivery\"\nsuccess = 0.1\n"
            );
        }
        let s = scenario(&body.replace("[adversary]\n", "")).clone();
        let mut s = s;
        s.adversary.max_attempts = 30;
        let e = evaluate(&s).unwrap_err();
        assert_eq!(e.phase, Phase::Delivery);
        assert!(e.to_string().contains("use `killchain run`"), "{e}");
    }
}
