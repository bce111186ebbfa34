//! `killchain exact` and `killchain check`: the exact method's reports, its refusal of scenarios
//! too large to enumerate, and Monte Carlo against exact on shipped and generated scenarios.

use killchain::engine::{Plan, run_range};
use killchain::exact;
use killchain::phase::N_PHASES;
use killchain::scenario::Scenario;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use crate::generate;
use crate::support::{killchain, records};

/// Published exact break rates of the benchmark scenario (shared benchmark README).
const REFERENCE: [f64; 7] = [
    0.196454, 0.288909, 0.544520, 0.608445, 0.503321, 0.509499, 0.762160,
];

#[test]
fn exact_writes_the_run_reports_with_exact_figures() {
    let out = tempfile::tempdir().unwrap();
    killchain()
        .args([
            "exact",
            "benches/data/reference.toml",
            "--quiet",
            "--trials",
            "1000000",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout("");
    let dir = out.path().join("reference");
    let phases = records(&std::fs::read(dir.join("phases.csv")).unwrap());
    assert_eq!(phases.len(), 7);
    for (row, q) in phases.iter().zip(REFERENCE) {
        assert_eq!(&row[1], "", "an exact evaluation has no seed");
        assert_eq!(&row[2], "1000000");
        let rate: f64 = row[8].parse().unwrap();
        assert!((rate - q).abs() <= 5e-7, "{rate} vs {q}");
        assert_eq!(&row[9], &row[8], "interval collapses to the value");
        assert_eq!(&row[10], &row[8]);
        assert_eq!(&row[12], "exact");
        // Expected counts: reached × rate = broken.
        let (reached, broken): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
        assert!((broken - reached * rate).abs() < 1.0);
    }
    let first: f64 = phases[0][5].parse().unwrap();
    assert_eq!(first, 1_000_000.0);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["method"], "exact");
    assert!((manifest["completion_rate"].as_f64().unwrap() - 0.0059047).abs() < 1e-7);
    for file in ["controls.csv", "techniques.csv"] {
        let r = records(&std::fs::read(dir.join(file)).unwrap());
        assert!(r.iter().all(|row| &row[row.len() - 1] == "exact"), "{file}");
    }
}

#[test]
fn check_agrees_on_every_shipped_scenario() {
    for name in [
        "ransomware-midsize",
        "saas-credential-phishing",
        "industrial-state-actor",
    ] {
        let out = killchain()
            .args([
                "check",
                &format!("scenarios/{name}.toml"),
                "--trials",
                "200000",
            ])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(text.contains("the methods agree"), "{text}");
        assert!(text.contains("break rate: delivery"), "{text}");
    }
}

#[test]
fn check_fails_when_a_figure_is_beyond_the_bound() {
    // No 200,000-trial estimate sits within 0.001 standard errors of every exact value.
    killchain()
        .args([
            "check",
            "benches/data/reference.toml",
            "--trials",
            "200000",
            "--z-max",
            "0.001",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "standard errors from the exact value",
        ));
}

#[test]
fn a_phase_too_large_to_enumerate_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.toml");
    let mut text = String::from("[scenario]\nname = \"wide\"\n[adversary]\nmax_attempts = 30\n");
    for p in [
        "reconnaissance",
        "weaponization",
        "exploitation",
        "installation",
        "command_and_control",
        "actions_on_objectives",
    ] {
        text +=
            &format!("[[adversary.techniques]]\nid = \"t-{p}\"\nphase = \"{p}\"\nsuccess = 1\n");
    }
    for k in 0..30 {
        text += &format!(
            "[[adversary.techniques]]\nid = \"d{k}\"\nphase = \"delivery\"\nsuccess = 0.1\n"
        );
    }
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    killchain()
        .arg("exact")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "phase \"delivery\" would need 1073741823 sets of tried techniques",
        ))
        .stderr(predicates::str::contains(
            "use `killchain run` (Monte Carlo) instead",
        ));
    assert!(!out.exists());
}

proptest! {
    // A fixed generator seed: the same scenarios every run, so the 4-SE checks are
    // deterministic (never flaky), as is the engine's seed.
    #![proptest_config(ProptestConfig {
        cases: 32,
        rng_seed: RngSeed::Fixed(20261127),
        ..ProptestConfig::default()
    })]

    /// Monte Carlo and exact agree on random valid scenarios: every phase's break rate within 4
    /// standard errors of the exact value (exact equality where the value is 0 or 1).
    #[test]
    fn monte_carlo_agrees_with_exact_on_generated_scenarios(toml in generate::scenario()) {
        let s = Scenario::from_toml(&toml, "generated.toml").unwrap();
        let ex = exact::evaluate(&s).unwrap();
        let t = run_range(&Plan::new(&s), 4242, 0..20_000);
        for i in 0..N_PHASES {
            if t.reached[i] == 0 {
                prop_assert!(ex.reached[i] < 1e-3, "phase {} never reached, exact {}", i, ex.reached[i]);
                continue;
            }
            let q = ex.broken[i] / ex.reached[i];
            let n = t.reached[i] as f64;
            let rate = t.broken[i] as f64 / n;
            if q == 0.0 || q == 1.0 {
                prop_assert_eq!(rate, q, "phase {}", i);
            } else {
                let z = (rate - q) / (q * (1.0 - q) / n).sqrt();
                prop_assert!(z.abs() <= 4.0, "phase {}: rate {} exact {} z {}", i, rate, q, z);
            }
        }
    }
}

/// `compare --method exact` and `rank --method exact` print exact differences: the exact
/// completion probability of each variant minus the baseline's.
#[test]
fn exact_comparison_and_ranking_use_exact_differences() {
    let path = "scenarios/ransomware-midsize.toml";
    let s = Scenario::from_toml(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let base = exact::evaluate(&s).unwrap().completed;
    let out = tempfile::tempdir().unwrap();
    for cmd in ["compare", "rank"] {
        killchain()
            .args([cmd, path, "--method", "exact", "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .success();
    }
    let dir = out.path().join("ransomware-midsize");
    let rows = records(&std::fs::read(dir.join("comparison.csv")).unwrap());
    assert_eq!(rows.len(), 1 + s.variants.len());
    for (row, v) in rows[1..].iter().zip(&s.variants) {
        assert_eq!(&row[1], v.name.as_str());
        let expect = exact::evaluate(&v.scenario).unwrap().completed - base;
        let delta: f64 = row[9].parse().unwrap();
        assert!(
            (delta - expect).abs() <= 5e-7,
            "{}: {delta} vs {expect}",
            v.name
        );
        assert_eq!(&row[10], &row[9]);
        assert_eq!(&row[12], "", "no changed-trial count without trials");
        // The scenario has [loss], so the loss columns come before `method`, always last.
        assert_eq!(&row[row.len() - 1], "exact");
    }
    let ranking = rows_of(&dir.join("ranking.csv"));
    assert_eq!(ranking.len(), s.controls.len());
    for row in &ranking {
        let i = s.controls.iter().position(|c| c.id == row[1]).unwrap();
        let mut switched = s.clone();
        switched.controls[i].enabled = !switched.controls[i].enabled;
        let expect = exact::evaluate(&switched).unwrap().completed - base;
        let delta: f64 = row[5].parse().unwrap();
        assert!(
            (delta - expect).abs() <= 5e-7,
            "{}: {delta} vs {expect}",
            &row[1]
        );
        assert_eq!(&row[row.len() - 1], "exact");
    }
}

fn rows_of(path: &std::path::Path) -> Vec<csv::StringRecord> {
    records(&std::fs::read(path).unwrap())
}
