//! The power figures of `compare`: re-running a comparison at the recommended number of trials
//! detects the effect it was computed for about 80 % of the time.
//!
//! For two shipped variants with an exact change Δ in completion rate, the trials that detect
//! D = Δ with 80 % power ([`PairedTable::trials_for`], the variance from a pilot run's
//! discordant trials) are computed; then K independent runs of that many paired trials each
//! (seeds 1..=K) count how often the paired 95 % interval excludes 0. The count is binomial(K,
//! 0.8) for a right formula: at K = 400 its standard error is 2 points, and 80 ± 5 % holds with
//! probability ≈ 0.99; the seeds are fixed, so the test is deterministic.
//!
//! An exact comparison's "Monte Carlo tells it with 80 % power in about N paired trials" is
//! checked the same way: N read from `compare`'s terminal (its discordant share from the
//! command's own pilot, at the upper end of its 95 % interval), then K re-runs at N.

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

/// The share of `RUNS` re-runs (seeds 1..=RUNS) of `n` paired trials whose paired 95 % interval
/// of the change in completion excludes 0.
fn told(s: &Scenario, v: &Scenario, n: u64) -> f64 {
    let told = (1..=RUNS)
        .filter(|&seed| {
            let (_, lo, hi) = table(s, v, seed, n).difference().unwrap();
            lo > 0.0 || hi < 0.0
        })
        .count();
    told as f64 / RUNS as f64
}

/// The scenario of `s`'s variant named `name`.
fn variant_of<'a>(s: &'a Scenario, name: &str) -> &'a Scenario {
    &s.variants.iter().find(|v| v.name == name).unwrap().scenario
}

/// (exact change, recommended trials, share of the re-runs whose interval excludes 0).
fn detection(path: &str, variant: &str) -> (f64, u64, f64) {
    let s = load(path);
    let v = variant_of(&s, variant);
    let delta = exact::evaluate(v).unwrap().completed - exact::evaluate(&s).unwrap().completed;
    let n = table(&s, v, 7_000_001, PILOT).trials_for(delta).unwrap();
    assert!(n <= 20_000, "{variant}: {n} trials");
    (delta, n, told(&s, v, n))
}

/// The paired trials an exact `compare` of `path` says a Monte Carlo run needs to tell each
/// variant's exact difference, by variant.
fn exact_recommendations(path: &str) -> Vec<(String, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let out = support::killchain()
        .args(["compare", path, "--method", "exact", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("with 80 % power in about ")?;
            let n = rest.split(' ').next()?.parse().ok()?;
            Some((line.split(' ').next()?.to_owned(), n))
        })
        .collect()
}

#[test]
fn an_exact_comparisons_recommended_trials_tell_the_exact_difference_80_percent_of_the_time() {
    for (path, variant) in [
        ("scenarios/ransomware-midsize.toml", "add-vpn-mfa"),
        ("scenarios/ransomware-midsize.toml", "faster-patching"),
    ] {
        let recommended = exact_recommendations(path);
        let n = recommended
            .iter()
            .find(|(name, _)| name == variant)
            .unwrap_or_else(|| panic!("{variant} in {recommended:?}"))
            .1;
        let s = load(path);
        let v = variant_of(&s, variant);
        let rate = told(&s, v, n);
        eprintln!("{variant} (exact): {n} paired trials, detected in {rate:.4}");
        assert!(
            (0.75..=0.85).contains(&rate),
            "{variant}: {n} trials tell the exact difference in {rate}"
        );
    }
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
