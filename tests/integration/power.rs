//! The power figures of `compare`: re-running a comparison at the recommended number of trials
//! detects the effect it was computed for about 80 % of the time.
//!
//! For two shipped variants with an exact change Δ in completion rate, the trials that detect
//! D = Δ with 80 % power ([`PairedTable::trials_for`], the variance from a pilot run's
//! discordant trials) are computed; then K independent runs of that many paired trials each
//! (seeds 1..=K) count how often the paired 95 % interval excludes 0. The count is binomial(K,
//! 0.8) for a right formula: at K = 400 its standard error is 2 points, and 80 ± 5 % holds with
//! probability ≈ 0.99; the seeds are fixed, so the test is deterministic.

use killchain::analysis::arms::Arm;
use killchain::engine::Plan;
use killchain::exact;
use killchain::scenario::{BASELINE, Scenario};
use killchain::stats::PairedTable;

use crate::support::{self, load};

/// Independent re-runs at the recommended trials.
const RUNS: u64 = 400;

/// Trials of the pilot run whose discordant share estimates the variance.
const PILOT: u64 = 400_000;

/// The completion table of `variant` against `base` on trials `0..trials` of `seed`.
fn table(base: &Scenario, variant: &Scenario, seed: u64, trials: u64) -> PairedTable {
    let plans = [Plan::new(base), Plan::new(variant)];
    let mut results = support::play(&plans, None, seed, trials, None);
    let r = results.remove(1);
    Arm {
        name: BASELINE.to_owned(),
        scenario: variant,
        tally: r.tally,
        joint: r.joint,
    }
    .completion_table()
}

/// (exact change, recommended trials, share of the re-runs whose interval excludes 0).
fn detection(path: &str, variant: &str) -> (f64, u64, f64) {
    let s = load(path);
    let v = &s
        .variants
        .iter()
        .find(|v| v.name == variant)
        .unwrap()
        .scenario;
    let delta = exact::evaluate(v).unwrap().completed - exact::evaluate(&s).unwrap().completed;
    let n = table(&s, v, 7_000_001, PILOT).trials_for(delta).unwrap();
    assert!(n <= 20_000, "{variant}: {n} trials");
    let told = (1..=RUNS)
        .filter(|&seed| {
            let (_, lo, hi) = table(&s, v, seed, n).difference().unwrap();
            lo > 0.0 || hi < 0.0
        })
        .count();
    (delta, n, told as f64 / RUNS as f64)
}

#[test]
fn rerunning_at_the_recommended_trials_detects_the_effect_80_percent_of_the_time() {
    for (path, variant) in [
        ("scenarios/ransomware-midsize.toml", "add-vpn-mfa"),
        ("scenarios/saas-credential-phishing.toml", "add-casb"),
    ] {
        let (delta, n, rate) = detection(path, variant);
        eprintln!("{variant}: exact change {delta:+.6}, {n} paired trials, detected in {rate:.4}");
        assert!(
            (0.75..=0.85).contains(&rate),
            "{variant}: {n} trials detect {delta} in {rate}"
        );
    }
}
