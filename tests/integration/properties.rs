//! Properties over random valid scenarios: common random numbers, counts that add up, rates
//! in [0, 1], reach that never grows along the chain, and the same bits for the same seed.

use killchain::engine::{Plan, run_range};
use killchain::phase::N_PHASES;
use killchain::scenario::Scenario;
use killchain::stats::Tally;
use proptest::prelude::*;

use crate::generate;

fn parse(toml: &str) -> Scenario {
    Scenario::from_toml(toml, "generated.toml").unwrap_or_else(|d| panic!("{d}\n{toml}"))
}

/// A one-trial tally with control `c`'s own counts blanked.
fn without(mut t: Tally, c: usize) -> Tally {
    t.control_fired[c] = 0;
    t.control_breaks[c] = 0;
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Switching one control on or off changes nothing in a trial where it never fired: the
    /// random numbers every other decision sees are the same (common random numbers).
    #[test]
    fn switching_a_control_changes_only_trials_where_it_fired(
        toml in generate::scenario(),
        pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let mut on = parse(&toml);
        prop_assume!(!on.controls.is_empty());
        let c = pick.index(on.controls.len());
        on.controls[c].enabled = true;
        let mut off = on.clone();
        off.controls[c].enabled = false;
        let (plan_on, plan_off) = (Plan::new(&on), Plan::new(&off));
        for i in 0..300u64 {
            let a = run_range(&plan_on, seed, i..i + 1);
            if a.control_fired[c] == 0 {
                let b = run_range(&plan_off, seed, i..i + 1);
                prop_assert_eq!(without(a, c), without(b, c), "trial {}", i);
            }
        }
    }

    /// Counts add up and rates are proportions, for any valid scenario.
    #[test]
    fn counts_add_up(toml in generate::scenario(), seed in any::<u64>()) {
        let s = parse(&toml);
        let n = 2000;
        let t = run_range(&Plan::new(&s), seed, 0..n);
        prop_assert_eq!(t.trials, n);
        prop_assert_eq!(t.reached[0], n);
        for i in 0..N_PHASES {
            prop_assert!(t.broken[i] <= t.reached[i]);
            if i + 1 < N_PHASES {
                prop_assert_eq!(t.reached[i + 1], t.passed(i));
            }
        }
        prop_assert_eq!(t.passed(N_PHASES - 1), t.completed);
        let broken: u64 = t.broken.iter().sum();
        prop_assert_eq!(broken + t.completed, n);
        let attributed: u64 =
            t.control_breaks.iter().sum::<u64>() + t.breaks_technique_failed + t.breaks_no_viable;
        prop_assert_eq!(attributed, broken);
        for c in &t.techniques {
            prop_assert_eq!(
                c.prevented + c.deceived + c.interrupted + c.failed + c.succeeded,
                c.attempts
            );
            prop_assert!(c.evicted <= c.attempts && c.detected <= c.attempts);
        }
        for (ci, ctl) in s.controls.iter().enumerate() {
            if !ctl.enabled {
                prop_assert_eq!(t.control_fired[ci], 0);
                prop_assert_eq!(t.control_breaks[ci], 0);
            }
        }
        // The same seed gives the same tally; a split range gives the same tally.
        let plan = Plan::new(&s);
        let mut split = run_range(&plan, seed, 0..777);
        split += &run_range(&plan, seed, 777..n);
        prop_assert_eq!(split, t);
    }
}

/// The common-random-numbers test above is not vacuous: on a shipped scenario, switching off a
/// control leaves thousands of trials identical and changes some.
#[test]
fn switching_a_control_changes_some_trials_and_keeps_the_rest() {
    let path = "scenarios/ransomware-midsize.toml";
    let mut on = Scenario::from_toml(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    for c in &mut on.controls {
        c.enabled = true;
    }
    for c in 0..on.controls.len() {
        let mut off = on.clone();
        off.controls[c].enabled = false;
        let (plan_on, plan_off) = (Plan::new(&on), Plan::new(&off));
        let (mut same, mut changed, mut fired) = (0, 0, 0);
        for i in 0..2000u64 {
            let a = run_range(&plan_on, 11, i..i + 1);
            let b = run_range(&plan_off, 11, i..i + 1);
            if a.control_fired[c] == 0 {
                assert_eq!(without(a, c), without(b, c), "control {c}, trial {i}");
                same += 1;
            } else {
                fired += 1;
                changed += usize::from(a.broken != b.broken);
            }
        }
        assert!(same > 0, "control {c} fired in every trial");
        if fired > 100 {
            assert!(
                changed > 0,
                "control {c} fired {fired} times and changed nothing"
            );
        }
    }
}
