//! The engine driven into each branch by probabilities of 0 and 1, where every count is exact.

use super::*;
use crate::phase::{N_PHASES, Phase};
use crate::scenario::Scenario;
use crate::sim::{ArmResult, Schedule, Session};

/// Plays `plans` on trials `0..n` of a run with `seed` in a session of `threads` workers.
fn play(plans: &[Plan], seed: u64, n: u64, threads: usize) -> Vec<ArmResult> {
    let stop = std::sync::atomic::AtomicUsize::new(0);
    let session = Session::new(Some(threads), &stop).unwrap();
    session
        .play(plans, &Schedule::new(None, seed, n, None))
        .unwrap()
}

/// One plan's counts, played in a session of `threads` workers.
fn run(plan: &Plan, seed: u64, n: u64, threads: usize) -> Tally {
    play(std::slice::from_ref(plan), seed, n, threads)
        .remove(0)
        .tally
}

/// A scenario whose seven phases each have one sure technique `t-<phase>`, plus `extra` TOML.
fn scenario(max_attempts: u32, extra: &str) -> Scenario {
    let mut toml = format!(
        "[scenario]\nname = \"unit\"\n[environment]\nflag = false\n[adversary]\nmax_attempts = {max_attempts}\n"
    );
    for p in Phase::ALL {
        toml +=
            &format!("[[adversary.techniques]]\nid = \"t-{p}\"\nphase = \"{p}\"\nsuccess = 1.0\n");
    }
    toml += extra;
    Scenario::from_toml(&toml, "unit.toml").unwrap_or_else(|d| panic!("{d}"))
}

fn run_n(s: &Scenario, n: u64) -> Tally {
    run_range(&Plan::new(s), 5, 0..n)
}

fn control_index(s: &Scenario, id: &str) -> usize {
    s.controls.iter().position(|c| c.id == id).unwrap()
}

const N: u64 = 500;

#[test]
fn sure_techniques_without_controls_complete_every_attack() {
    let t = run_n(&scenario(1, ""), N);
    assert_eq!(t.completed, N);
    assert_eq!(t.reached, [N; N_PHASES]);
    assert_eq!(t.broken, [0; N_PHASES]);
    assert!(
        t.techniques
            .iter()
            .all(|c| c.attempts == N && c.succeeded == N)
    );
}

#[test]
fn a_sure_deny_prevents_every_attempt_and_silences_later_controls() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "wall"
action = "deny"
phases = ["delivery"]
effectiveness = 1.0
[[controls]]
id = "eye"
action = "detect"
phases = ["delivery"]
effectiveness = 1.0
"#,
    );
    let t = run_n(&s, N);
    let d = Phase::Delivery.index();
    assert_eq!(t.reached[d], N);
    assert_eq!(t.broken[d], N);
    assert_eq!(t.reached[d + 1], 0);
    assert_eq!(t.control_breaks[control_index(&s, "wall")], N);
    assert_eq!(t.control_fired[control_index(&s, "wall")], N);
    assert_eq!(t.control_fired[control_index(&s, "eye")], 0);
    assert_eq!(t.techniques[d].prevented, N);
}

#[test]
fn a_deceive_evicts_with_its_response_or_only_fails_the_attempt() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "decoy-evicts"
action = "deceive"
phases = ["recon"]
effectiveness = 1.0
[[controls]]
id = "decoy-only"
action = "deceive"
phases = ["c2"]
effectiveness = 1.0
response = 0.0
"#,
    );
    // Only the recon decoy ever acts: it evicts every adversary at the first phase.
    let t = run_n(&s, N);
    assert_eq!(t.broken[0], N);
    assert_eq!(t.control_breaks[control_index(&s, "decoy-evicts")], N);
    assert_eq!(t.techniques[0].deceived, N);
    assert_eq!(t.techniques[0].evicted, N);

    let mut s2 = s.clone();
    s2.controls[control_index(&s, "decoy-evicts")].enabled = false;
    let t = run_n(&s2, N);
    let c2 = Phase::CommandAndControl.index();
    assert_eq!(t.broken[c2], N);
    // The attempt failed in the decoy and attempts ran out: attributed to the decoy.
    assert_eq!(t.control_breaks[control_index(&s2, "decoy-only")], N);
    assert_eq!(t.techniques[c2].evicted, 0);
}

#[test]
fn a_full_degrade_makes_the_technique_fail_and_counts_every_attempt() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "friction"
action = "degrade"
phases = ["exploitation"]
effectiveness = 1.0
"#,
    );
    let t = run_n(&s, N);
    let e = Phase::Exploitation.index();
    assert_eq!(t.broken[e], N);
    assert_eq!(t.breaks_technique_failed, N);
    assert_eq!(t.control_fired[0], N);
    assert_eq!(t.control_breaks[0], 0);
    assert_eq!(t.techniques[e].failed, N);
}

#[test]
fn a_sure_disrupt_interrupts_and_is_credited_when_attempts_run_out() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "kill-proc"
action = "disrupt"
phases = ["installation"]
effectiveness = 1.0
[[controls]]
id = "edr"
action = "detect"
phases = ["installation"]
effectiveness = 1.0
response = 0.0
"#,
    );
    let t = run_n(&s, N);
    let i = Phase::Installation.index();
    assert_eq!(t.broken[i], N);
    assert_eq!(t.control_breaks[control_index(&s, "kill-proc")], N);
    assert_eq!(t.techniques[i].interrupted, N);
    // An interrupted attempt ran, so detection still rolls; a response of 0 never evicts.
    assert_eq!(t.control_fired[control_index(&s, "edr")], N);
    assert_eq!(t.techniques[i].detected, N);
    assert_eq!(t.techniques[i].evicted, 0);
}

#[test]
fn detection_with_response_evicts_even_a_successful_attempt() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "soc"
action = "detect"
phases = ["actions_on_objectives"]
effectiveness = 1.0
"#,
    );
    let t = run_n(&s, N);
    let a = Phase::ActionsOnObjectives.index();
    assert_eq!(t.broken[a], N);
    assert_eq!(t.completed, 0);
    assert_eq!(t.techniques[a].succeeded, N);
    assert_eq!(t.techniques[a].evicted, N);
    assert_eq!(t.control_breaks[0], N);
}

#[test]
fn a_sure_destroy_ends_the_operation() {
    let s = scenario(
        1,
        r#"
[[controls]]
id = "takedown"
action = "destroy"
phases = ["weaponization"]
effectiveness = 1.0
"#,
    );
    let t = run_n(&s, N);
    assert_eq!(t.broken[1], N);
    assert_eq!(t.control_breaks[0], N);
    assert_eq!(t.techniques[1].evicted, N);
}

#[test]
fn a_phase_without_viable_technique_breaks_every_chain_there() {
    let mut s = scenario(1, "");
    let d = Phase::Delivery.index();
    s.techniques[d].viable = false;
    let t = run_n(&s, N);
    assert_eq!(t.broken[d], N);
    assert_eq!(t.breaks_no_viable, N);
    assert_eq!(t.techniques[d].attempts, 0);
}

#[test]
fn retries_use_each_technique_once_and_stop_at_max_attempts() {
    // Three delivery options all denied: with max_attempts 2 exactly two distinct ones are tried.
    let extra = r#"
[[adversary.techniques]]
id = "d2"
phase = "delivery"
success = 1.0
weight = 5
[[adversary.techniques]]
id = "d3"
phase = "delivery"
success = 1.0
weight = 0.5
[[controls]]
id = "wall"
action = "deny"
phases = ["delivery"]
effectiveness = 1.0
"#;
    let s = scenario(2, extra);
    let t = run_n(&s, N);
    let attempts: u64 = s
        .techniques_in(Phase::Delivery)
        .map(|(i, _)| t.techniques[i].attempts)
        .sum();
    assert_eq!(attempts, 2 * N);
    assert!(
        s.techniques_in(Phase::Delivery)
            .all(|(i, _)| t.techniques[i].attempts <= N)
    );
    assert_eq!(t.control_fired[0], 2 * N);
    assert_eq!(t.control_breaks[0], N);
    // With max_attempts above the number of options, all three are tried once.
    let t = run_n(&scenario(9, extra), N);
    assert!(
        s.techniques_in(Phase::Delivery)
            .all(|(i, _)| t.techniques[i].attempts == N)
    );
}

#[test]
fn thread_count_and_chunking_do_not_change_the_tally() {
    let s = scenario(
        2,
        r#"
[[adversary.techniques]]
id = "d2"
phase = "delivery"
success = 0.4
[[controls]]
id = "gw"
action = "deny"
phases = ["delivery"]
effectiveness = 0.5
"#,
    );
    let plan = Plan::new(&s);
    let n = 3 * CHUNK_TRIALS + 17;
    let one = run(&plan, 9, n, 1);
    let two = run(&plan, 9, n, 2);
    let mut split = run_range(&plan, 9, 0..1000);
    split += &run_range(&plan, 9, 1000..n);
    assert_eq!(one, two);
    assert_eq!(one, split);
    assert_eq!(one.trials, n);
    // Parallel slices starting mid-chunk, as shards run them, sum to the whole run.
    let cut = CHUNK_TRIALS + 12_345;
    let stop = std::sync::atomic::AtomicUsize::new(0);
    let session = crate::sim::Session::new(Some(2), &stop).unwrap();
    let slice = |r: std::ops::Range<u64>| session.run(|w| play_chunks(&plan, 9, r, w)).unwrap();
    let mut sliced = slice(0..cut);
    sliced += &slice(cut..n);
    assert_eq!(one, sliced);
}

#[test]
fn batched_and_per_trial_engines_count_the_same() {
    for path in [
        "scenarios/ransomware-midsize.toml",
        "scenarios/saas-credential-phishing.toml",
        "scenarios/industrial-state-actor.toml",
        "benches/data/reference.toml",
        "tests/data/exact/all-actions.toml",
        "tests/data/exact/no-viable.toml",
        "tests/data/exact/attempts-exceed.toml",
    ] {
        let text = std::fs::read_to_string(path).unwrap();
        let mut s = Scenario::from_toml(&text, path).unwrap();
        for variant in 0..2 {
            if variant == 1 {
                s.controls.iter_mut().for_each(|c| c.enabled = true);
            }
            let plan = Plan::new(&s);
            let batched = run_range(&plan, 99, 1000..6000);
            assert_eq!(
                batched,
                run_range_per_trial(&plan, 99, 1000..6000),
                "{path}"
            );
        }
    }
}

#[test]
fn paired_runs_count_like_separate_runs_and_pair_outcomes_by_trial() {
    let path = "scenarios/ransomware-midsize.toml";
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let mut all_on = s.clone();
    all_on.controls.iter_mut().for_each(|c| c.enabled = true);
    let plans = [Plan::new(&s), Plan::new(&all_on), Plan::new(&s)];
    let n = 2 * CHUNK_TRIALS + 333;
    let paired = play(&plans, 17, n, 2);
    for (plan, ArmResult { tally, joint, .. }) in plans.iter().zip(&paired) {
        assert_eq!(*tally, run(plan, 17, n, 1));
        // The joint's margins are the baseline's and this plan's outcome counts.
        for phase in 0..N_PHASES {
            let as_variant: u64 = joint.iter().map(|row| row[phase]).sum();
            let as_baseline: u64 = joint[phase].iter().sum();
            assert_eq!(as_variant, tally.broken[phase]);
            assert_eq!(as_baseline, paired[0].tally.broken[phase]);
        }
        let completed: u64 = joint.iter().map(|row| row[N_PHASES]).sum();
        assert_eq!(completed, tally.completed);
    }
    // The baseline against itself, and an identical copy, change no trial.
    for v in [0, 2] {
        let off_diagonal: u64 = (0..=N_PHASES)
            .flat_map(|a| (0..=N_PHASES).map(move |b| (a, b)))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| paired[v].joint[a][b])
            .sum();
        assert_eq!(off_diagonal, 0);
    }
    // Switching on the candidate controls changes some trials.
    let changed: u64 = (0..=N_PHASES)
        .flat_map(|a| (0..=N_PHASES).map(move |b| (a, b)))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| paired[1].joint[a][b])
        .sum();
    assert!(changed > 0);
}

/// Phases with many viable techniques take other pick loops in the batched engine (size classes
/// of 4, 8 and 16, and one pass per threshold beyond); each must count like the per-trial
/// engine, with controls acting on some techniques only and retries.
#[test]
fn batched_picks_among_many_techniques_count_like_the_per_trial_engine() {
    let phases = [
        ("delivery", 7),
        ("exploitation", 12),
        ("installation", 16),
        ("command_and_control", 21),
    ];
    let mut extra = String::new();
    for (phase, n) in phases {
        for j in 0..n {
            let (weight, success) = (1 + j % 5, 0.2 + 0.03 * j as f64);
            extra += &format!(
                "[[adversary.techniques]]\nid = \"{phase}-{j}\"\nphase = \"{phase}\"\n\
                 weight = {weight}\nsuccess = {success}\n"
            );
        }
        extra += &format!(
            "[[controls]]\nid = \"deny-{phase}\"\naction = \"deny\"\n\
             phases = [\"{phase}\"]\ntechniques = [\"{phase}-1\", \"{phase}-{}\"]\neffectiveness = 0.5\n\
             [[controls]]\nid = \"detect-{phase}\"\naction = \"detect\"\n\
             phases = [\"{phase}\"]\neffectiveness = 0.2\nresponse = 0.5\n",
            n - 1
        );
    }
    for max_attempts in [1, 3] {
        let s = scenario(max_attempts, &extra);
        let plan = Plan::new(&s);
        let batched = run_range(&plan, 7, 0..5000);
        assert!(batched.completed > 0 && batched.completed < 5000);
        assert_eq!(batched, run_range_per_trial(&plan, 7, 0..5000));
    }
}
