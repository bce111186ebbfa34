//! The identities every honest tally satisfies, whatever its seed and trials: what the engine's
//! mechanics (one attempt's outcome, the chain of phases, who broke it) force upon the counts of
//! a scenario. `merge` checks each shard against them, so that a count edited in a `tally.json`
//! (even one whose digest was recomputed) is refused unless every related count was edited to
//! agree with it.
//!
//! Invariant: each check is an identity of the semantics (README "How one trial plays"), true
//! of the counts of any set of trials of the scenario; sums are taken in `u128`, so no check
//! can overflow.

use crate::phase::{CourseOfAction, N_PHASES, Phase};
use crate::scenario::Scenario;
use crate::stats::Tally;
use crate::stats::loss::{ArmLoss, bin_bounds};

/// Every identity `t`, counted over trials of `s`, breaks (empty for an honest tally). `t` has
/// one count per control and technique of `s` (the caller checks the shape first).
pub(crate) fn tally_problems(t: &Tally, s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let mut need = |holds: bool, what: String| {
        if !holds {
            out.push(what);
        }
    };
    let wide = u128::from;
    let phase = |p: usize| Phase::ALL[p].id();

    // The chain: every trial reaches reconnaissance; a phase's reached trials are broken there
    // or pass to the next; those that pass the last phase completed.
    need(
        t.reached[0] == t.trials,
        format!(
            "reached at {} is {} but the shard counts {} trials",
            phase(0),
            t.reached[0],
            t.trials
        ),
    );
    for p in 0..N_PHASES {
        need(
            t.broken[p] <= t.reached[p],
            format!(
                "broken at {} is {}, more than the {} trials that reached it",
                phase(p),
                t.broken[p],
                t.reached[p]
            ),
        );
    }
    let passed = |p: usize| t.reached[p].saturating_sub(t.broken[p]);
    for p in 1..N_PHASES {
        need(
            t.reached[p] == passed(p - 1),
            format!(
                "reached at {} is {} but {} trials passed {} ({} reached, {} broken)",
                phase(p),
                t.reached[p],
                passed(p - 1),
                phase(p - 1),
                t.reached[p - 1],
                t.broken[p - 1]
            ),
        );
    }
    let last = N_PHASES - 1;
    need(
        t.completed == passed(last),
        format!(
            "completed is {} but {} trials passed {}",
            t.completed,
            passed(last),
            phase(last)
        ),
    );

    // Every break is attributed once: to a control, to the technique's failure, or to a phase
    // without a viable technique.
    let broken: u128 = t.broken.iter().copied().map(wide).sum();
    let attributed: u128 = t.control_breaks.iter().copied().map(wide).sum::<u128>()
        + wide(t.breaks_technique_failed)
        + wide(t.breaks_no_viable);
    need(
        attributed == broken,
        format!(
            "breaks attributed to controls ({}), to failed techniques ({}) and to phases without a viable technique ({}) sum to {attributed}, but {broken} chains were broken",
            t.control_breaks.iter().copied().map(wide).sum::<u128>(),
            t.breaks_technique_failed,
            t.breaks_no_viable
        ),
    );

    // One attempt ends in exactly one of its outcomes.
    for (ti, (c, tech)) in t.techniques.iter().zip(&s.techniques).enumerate() {
        let id = &tech.id;
        let ran = wide(c.interrupted) + wide(c.failed) + wide(c.succeeded);
        let outcomes = wide(c.prevented) + wide(c.deceived) + ran;
        need(
            outcomes == wide(c.attempts),
            format!(
                "technique {id:?}: prevented {} + deceived {} + interrupted {} + failed {} + succeeded {} = {outcomes}, but it has {} attempts",
                c.prevented, c.deceived, c.interrupted, c.failed, c.succeeded, c.attempts
            ),
        );
        need(
            wide(c.detected) <= ran,
            format!(
                "technique {id:?}: detected on {} attempts, more than the {ran} that ran",
                c.detected
            ),
        );
        need(
            wide(c.evicted) <= wide(c.deceived) + ran,
            format!(
                "technique {id:?}: evicted on {} attempts, more than the {} that were not prevented",
                c.evicted,
                wide(c.deceived) + ran
            ),
        );
        need(
            tech.viable || c.attempts == 0,
            format!(
                "technique {id:?} is not viable but has {} attempts",
                c.attempts
            ),
        );
        let has = |action: CourseOfAction| {
            s.controls
                .iter()
                .any(|k| k.enabled && k.action == action && k.applies_to(tech.phase, ti))
        };
        for (count, what, actions) in [
            (c.prevented, "prevented", &[CourseOfAction::Deny][..]),
            (c.deceived, "deceived", &[CourseOfAction::Deceive]),
            (c.interrupted, "interrupted", &[CourseOfAction::Disrupt]),
            (c.detected, "detected", &[CourseOfAction::Detect]),
            (
                c.evicted,
                "evicted",
                &[
                    CourseOfAction::Deceive,
                    CourseOfAction::Detect,
                    CourseOfAction::Destroy,
                ],
            ),
        ] {
            need(
                count == 0 || actions.iter().any(|&a| has(a)),
                format!(
                    "technique {id:?}: {what} {count} times, but no enabled control that could do it acts on it"
                ),
            );
        }
    }

    // Per phase: its attempts, its passes and its evictions.
    let mut no_viable_breaks = 0u128;
    let mut path_breaks = 0u128;
    for (p, ph) in Phase::ALL.into_iter().enumerate() {
        let in_phase = || {
            s.techniques
                .iter()
                .zip(&t.techniques)
                .filter(move |(tech, _)| tech.phase == ph)
                .map(|(_, c)| c)
        };
        let attempts: u128 = in_phase().map(|c| wide(c.attempts)).sum();
        let succeeded: u128 = in_phase().map(|c| wide(c.succeeded)).sum();
        let evicted: u128 = in_phase().map(|c| wide(c.evicted)).sum();
        let viable = s.techniques_in(ph).filter(|(_, t)| t.viable).count() as u128;
        let reached = wide(t.reached[p]);
        if viable == 0 {
            no_viable_breaks += wide(t.broken[p]);
            need(
                t.broken[p] == t.reached[p],
                format!(
                    "{} has no viable technique, so all {} trials that reached it were broken there, not {}",
                    ph.id(),
                    t.reached[p],
                    t.broken[p]
                ),
            );
        }
        // With attack paths a campaign may find none of the phase's viable techniques open to
        // it: it then makes no attempt and its chain breaks there for want of a technique.
        let gated = (s.techniques_in(ph)).any(|(_, t)| t.viable && !t.after.is_empty());
        if gated {
            path_breaks += wide(t.broken[p]);
        }
        let per_trial = u128::from(s.adversary.max_attempts).min(viable);
        let at_least = if gated { 0 } else { per_trial.min(1) };
        need(
            reached * at_least <= attempts && attempts <= reached * per_trial,
            format!(
                "{}: {attempts} attempts by {} trials that reached it, but each makes 1 to {per_trial}",
                ph.id(),
                t.reached[p]
            ),
        );
        let passed = wide(passed(p));
        need(
            passed <= succeeded && succeeded <= passed + evicted,
            format!(
                "{}: {passed} trials passed it, but its techniques succeeded {succeeded} times and were evicted {evicted} times",
                ph.id()
            ),
        );
        need(
            evicted <= wide(t.broken[p]),
            format!(
                "{}: its techniques were evicted {evicted} times, more than the {} chains broken there",
                ph.id(),
                t.broken[p]
            ),
        );
    }
    let no_viable = wide(t.breaks_no_viable);
    need(
        no_viable_breaks <= no_viable && no_viable <= no_viable_breaks + path_breaks,
        format!(
            "breaks_no_viable is {} but {no_viable_breaks} chains were broken at phases without a viable technique and {path_breaks} at phases whose techniques need a path",
            t.breaks_no_viable
        ),
    );
    let failed: u128 = t.techniques.iter().map(|c| wide(c.failed)).sum();
    need(
        wide(t.breaks_technique_failed) <= failed,
        format!(
            "breaks_technique_failed is {} but techniques failed only {failed} times",
            t.breaks_technique_failed
        ),
    );

    // Controls: what each did, against what the techniques it acts on record.
    let techniques_of = |ci: usize| {
        let c = &s.controls[ci];
        s.techniques
            .iter()
            .enumerate()
            .filter(move |(ti, tech)| c.applies_to(tech.phase, *ti))
            .map(|(ti, _)| &t.techniques[ti])
    };
    let mut fired_by = [0u128; 6];
    let mut breaks_by = [0u128; 6];
    for (ci, c) in s.controls.iter().enumerate() {
        let (fired, breaks) = (t.control_fired[ci], t.control_breaks[ci]);
        let id = &c.id;
        need(
            breaks <= fired,
            format!("control {id:?}: {breaks} breaks but it fired only {fired} times"),
        );
        if !c.enabled {
            need(
                fired == 0,
                format!("control {id:?} is disabled but fired {fired} times"),
            );
            continue;
        }
        fired_by[c.action.engine_rank()] += wide(fired);
        breaks_by[c.action.engine_rank()] += wide(breaks);
        let on = |f: fn(&crate::stats::TechniqueCounts) -> u128| -> u128 {
            techniques_of(ci).map(f).sum()
        };
        let (bound, what): (u128, &str) = match c.action {
            CourseOfAction::Deny => (on(|k| u128::from(k.prevented)), "prevented"),
            CourseOfAction::Deceive => (on(|k| u128::from(k.deceived)), "deceived"),
            CourseOfAction::Disrupt => (on(|k| u128::from(k.interrupted)), "interrupted"),
            CourseOfAction::Detect => (on(|k| u128::from(k.detected)), "detected"),
            CourseOfAction::Destroy => (on(|k| u128::from(k.evicted)), "evicted"),
            CourseOfAction::Degrade => {
                let ran = on(|k| {
                    u128::from(k.attempts)
                        .saturating_sub(u128::from(k.prevented) + u128::from(k.deceived))
                });
                need(
                    u128::from(fired) == ran,
                    format!(
                        "control {id:?} degrades every attempt that is neither prevented nor deceived ({ran}), but fired {fired} times"
                    ),
                );
                need(
                    breaks == 0,
                    format!(
                        "control {id:?} degrades, which breaks no chain, but has {breaks} breaks"
                    ),
                );
                continue;
            }
        };
        need(
            wide(fired) <= bound,
            format!(
                "control {id:?} fired {fired} times, but the techniques it acts on were {what} only {bound} times"
            ),
        );
    }
    let total = |f: fn(&crate::stats::TechniqueCounts) -> u64| -> u128 {
        t.techniques.iter().map(|k| wide(f(k))).sum()
    };
    let rank = CourseOfAction::engine_rank;
    for (action, what, count) in [
        (CourseOfAction::Deny, "prevented", total(|k| k.prevented)),
        (CourseOfAction::Deceive, "deceived", total(|k| k.deceived)),
        (
            CourseOfAction::Disrupt,
            "interrupted",
            total(|k| k.interrupted),
        ),
    ] {
        need(
            fired_by[rank(action)] == count,
            format!(
                "{} controls fired {} times in all, but techniques were {what} {count} times (each such attempt is one {} control firing)",
                action.id(),
                fired_by[rank(action)],
                action.id()
            ),
        );
    }
    let detected = total(|k| k.detected);
    need(
        fired_by[rank(CourseOfAction::Detect)] >= detected,
        format!(
            "detect controls fired {} times in all, but techniques were detected {detected} times",
            fired_by[rank(CourseOfAction::Detect)]
        ),
    );
    let evicted = total(|k| k.evicted);
    let by_eviction =
        breaks_by[rank(CourseOfAction::Detect)] + breaks_by[rank(CourseOfAction::Destroy)];
    let deceive_breaks = breaks_by[rank(CourseOfAction::Deceive)];
    need(
        by_eviction <= evicted && evicted <= by_eviction + deceive_breaks,
        format!(
            "techniques were evicted {evicted} times, but detect and destroy controls broke {by_eviction} chains and deceive controls {deceive_breaks}"
        ),
    );
    out
}

/// Every identity the annual losses `l` of the years of a shard with counts `t` break (empty
/// for an honest shard): the sums against the histogram, the years with a loss against the
/// completed attacks, and the paired differences of a single run (all zero).
pub(crate) fn loss_problems(l: &ArmLoss, t: &Tally) -> Vec<String> {
    let mut out = Vec::new();
    let mut need = |holds: bool, what: String| {
        if !holds {
            out.push(what);
        }
    };
    let lt = &l.tally;
    let (mut low, mut high) = (0u128, 0u128);
    let (mut low_sq, mut high_sq) = (0u128, 0u128);
    let mut counted = u128::from(lt.zero_years);
    for (b, &k) in lt.bins.iter().enumerate().filter(|(_, k)| **k > 0) {
        let (lo, hi) = bin_bounds(b);
        let (lo, hi, k) = (u128::from(lo), u128::from(hi), u128::from(k));
        counted += k;
        // k < 2^64 and hi < 2^64: each product fits, and so does the sum over < 2^64 years.
        low = low.saturating_add(k * lo);
        high = high.saturating_add(k * hi);
        low_sq = low_sq.saturating_add((lo * lo).saturating_mul(k));
        high_sq = high_sq.saturating_add((hi * hi).saturating_mul(k));
    }
    need(
        counted == u128::from(lt.years),
        format!(
            "the loss histogram and the years without loss hold {counted} years, but years is {}",
            lt.years
        ),
    );
    need(
        low <= lt.sum && lt.sum <= high,
        format!(
            "the loss sum {} is outside {low}..={high}, the range its histogram allows",
            lt.sum
        ),
    );
    need(
        low_sq <= lt.sum_sq && lt.sum_sq <= high_sq,
        format!(
            "the loss sum of squares {} is outside {low_sq}..={high_sq}, the range its histogram allows",
            lt.sum_sq
        ),
    );
    let positive = lt.years.saturating_sub(lt.zero_years);
    need(
        positive <= t.completed,
        format!(
            "{positive} years had a loss, but only {} attacks completed",
            t.completed
        ),
    );
    let p = &l.paired;
    need(
        p.years == lt.years && p.sum_d == 0 && p.sum_d2 == 0,
        format!(
            "the paired losses of a single run are {} years of zero difference, not years {}, sum_d {}, sum_d2 {}",
            lt.years, p.years, p.sum_d, p.sum_d2
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::engine::{Plan, run_range, run_range_per_trial};

    /// Every scenario killchain ships or tests with (the baseline and each variant): honest
    /// tallies of several seeds and slices, from both engines, break no identity.
    #[test]
    fn honest_tallies_of_every_scenario_break_no_identity() {
        let mut files = Vec::new();
        for dir in [
            "scenarios",
            "tests/data/valid",
            "tests/data/compare",
            "tests/data/exact",
            "tests/data/formula",
            "tests/data/optimize",
            "benches/data",
        ] {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.extension().is_some_and(|x| x == "toml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 20, "{files:?}");
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let s = Scenario::from_toml(&text, &path.display().to_string())
                .unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
            for arm in std::iter::once(&s).chain(s.variants.iter().map(|v| &v.scenario)) {
                let plan = Plan::new(arm);
                for (seed, range) in [(1, 0..3000), (99, 17..2000), (7, 5..6), (3, 0..0)] {
                    let batched = run_range(&plan, seed, range.clone());
                    assert_eq!(
                        tally_problems(&batched, arm),
                        Vec::<String>::new(),
                        "{} seed {seed}",
                        path.display()
                    );
                    let per_trial = run_range_per_trial(&plan, seed, range);
                    assert_eq!(tally_problems(&per_trial, arm), Vec::<String>::new());
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    fn loss_scenario() -> Scenario {
        let text = std::fs::read_to_string("tests/data/valid/loss.toml").unwrap();
        Scenario::from_toml(&text, "loss.toml").unwrap()
    }

    #[test]
    fn every_single_count_edit_breaks_an_identity() {
        let s = loss_scenario();
        let t = run_range(&Plan::new(&s), 5, 0..4000);
        assert!(tally_problems(&t, &s).is_empty());
        type Edit = fn(&mut Tally);
        let edits: [(&str, Edit); 14] = [
            ("trials", |t| t.trials += 1),
            ("completed", |t| t.completed += 1),
            ("reached", |t| t.reached[3] -= 1),
            ("broken", |t| t.broken[2] += 1),
            ("control_breaks", |t| t.control_breaks[1] += 1),
            ("control_fired deny", |t| t.control_fired[0] += 1),
            ("control_fired detect", |t| t.control_fired[1] = 0),
            ("disabled fired", |t| t.control_fired[2] = 1),
            ("technique_failed", |t| t.breaks_technique_failed -= 1),
            ("no_viable", |t| t.breaks_no_viable += 1),
            ("attempts", |t| t.techniques[0].attempts += 1),
            ("succeeded", |t| t.techniques[4].succeeded += 1),
            ("detected", |t| t.techniques[4].detected = 0),
            ("evicted", |t| t.techniques[5].evicted += 1),
        ];
        for (what, edit) in edits {
            let mut forged = t.clone();
            edit(&mut forged);
            assert_ne!(forged, t, "{what}: not an edit");
            assert!(!tally_problems(&forged, &s).is_empty(), "{what}");
        }
    }

    /// The attacker who moves trials from one count to another keeps every sum; the identities
    /// between related counts still catch it.
    #[test]
    fn moving_counts_between_outcomes_breaks_an_identity() {
        let s = loss_scenario();
        let t = run_range(&Plan::new(&s), 5, 0..4000);
        let mut forged = t.clone();
        // One more completed attack, one fewer break at the last phase: the chain still adds up,
        // but the break attributed to a failed technique is gone without a trace.
        forged.broken[6] -= 1;
        forged.completed += 1;
        forged.breaks_technique_failed -= 1;
        let problems = tally_problems(&forged, &s);
        assert!(
            problems.iter().any(|p| p.contains("actions_on_objectives")),
            "{problems:?}"
        );
    }

    #[test]
    fn loss_sums_must_lie_in_their_histogram() {
        let mut l = ArmLoss::default();
        for loss in [0, 5, 70, 1000, 123_456] {
            l.tally.add_year(loss);
            l.paired.add_year(loss, loss);
        }
        let mut t = Tally::new(0, 0);
        t.completed = 4;
        assert_eq!(loss_problems(&l, &t), Vec::<String>::new());
        let mut forged = l.clone();
        forged.tally.sum = u128::MAX;
        assert!(
            loss_problems(&forged, &t)[0]
                .starts_with("the loss sum 340282366920938463463374607431768211455 is outside")
        );
        let mut forged = l.clone();
        forged.tally.sum_sq += u128::from(u64::MAX);
        assert!(loss_problems(&forged, &t)[0].contains("sum of squares"));
        let mut forged = l.clone();
        forged.paired.sum_d = 1;
        assert_eq!(loss_problems(&forged, &t).len(), 1);
        t.completed = 3;
        assert!(loss_problems(&l, &t)[0].contains("4 years had a loss"));
    }
}
