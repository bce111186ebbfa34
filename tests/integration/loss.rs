//! Annual loss: simulated expected annual loss against λ · p · E[impact] with the exact
//! completion probability, ROSI in `comparison.csv`, determinism across threads, and sharded
//! runs with `[loss]` merged byte for byte.

use std::fs;
use std::path::Path;

use killchain::engine::Plan;
use killchain::exact;
use killchain::money::{Impact, LossModel};
use killchain::scenario::Scenario;
use killchain::stats::Z95;
use tempfile::TempDir;

use crate::support::{killchain, play, read_files};

const LOSS_FIXTURE: &str = "tests/data/valid/loss.toml";
const TINY: &str = "tests/data/valid/tiny.toml";

fn tiny_with(loss: &str) -> Scenario {
    let text = fs::read_to_string(TINY).unwrap() + "\n[loss]\n" + loss;
    Scenario::from_toml(&text, "tiny-with-loss.toml").unwrap()
}

/// Simulated ALE is within 4 standard errors of λ · p · E[impact], where p is the exact
/// completion probability and E[impact] the closed-form mean, for each impact kind.
#[test]
fn simulated_ale_matches_rate_times_completion_times_mean_impact() {
    for (loss, mean) in [
        ("attacks_per_year = 6\nimpact = 1500000\n", 1_500_000.0),
        (
            "attacks_per_year = 6\nimpact = { low = 250000, high = 4000000 }\n",
            // μ = ln 10^6, σ = ln 16 / (2 · 1.6448536…): mean = 10^6 · e^(σ²/2)
            1e6 * ((16f64.ln() / (2.0 * 1.644_853_626_951_472_2)).powi(2) / 2.0).exp(),
        ),
        (
            "attacks_per_year = 25\nimpact = { min = 50000, mode = 400000, max = 6000000 }\n",
            (50_000.0 + 4.0 * 400_000.0 + 6_000_000.0) / 6.0,
        ),
    ] {
        let s = tiny_with(loss);
        let model = s.loss.clone().unwrap();
        assert!((model.mean_impact() / mean - 1.0).abs() < 1e-12, "{loss}");
        let p = exact::evaluate(&s).unwrap().completed;
        let want = model.exact_ale(p);
        assert!((want - model.attacks_per_year * p * mean).abs() < 1e-6 * want);
        let arms = play(&[Plan::new(&s)], Some(&model), 2026, 400_000, Some(2));
        let losses: Vec<_> = arms.into_iter().filter_map(|a| a.loss).collect();
        let t = &losses[0].tally;
        let se = (t.ci().1 - t.ale()) / Z95;
        assert!(t.years > 10_000, "{} years", t.years);
        assert!(
            (t.ale() - want).abs() < 4.0 * se,
            "{loss}: simulated {} vs exact {want} (SE {se})",
            t.ale()
        );
        // The baseline's paired reduction against itself is exactly zero.
        assert_eq!(losses[0].paired.sum_d, 0);
    }
}

/// A lognormal fitted from (low, high) puts 5 % of the mass below low and 5 % above high.
#[test]
fn fitted_lognormal_has_the_given_5th_and_95th_percentiles() {
    let (mu, sigma) = Impact::lognormal_params(250_000.0, 4_000_000.0);
    let cdf = |x: f64| 0.5 * erfc_series(-(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2));
    assert!((cdf(250_000.0) - 0.05).abs() < 1e-9);
    assert!((cdf(4_000_000.0) - 0.95).abs() < 1e-9);
}

/// erfc from the Maclaurin series of erf, independent of the crate under test; accurate for
/// |x| < 3, the range used here.
fn erfc_series(x: f64) -> f64 {
    // 1 − erf(x), erf by its Maclaurin series (converges fast for |x| < 3)
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    1.0 - sum * 2.0 / std::f64::consts::PI.sqrt()
}

/// A cell of a CSV row by column name.
fn cell<'a>(header: &[&str], row: &'a [&'a str], name: &str) -> &'a str {
    let i = header.iter().position(|h| *h == name).unwrap();
    row[i]
}

/// ROSI = (ALE reduction − extra cost) / extra cost, computed here by hand from the exact
/// completion probabilities; a variant without extra cost has an empty ROSI cell.
#[test]
fn rosi_by_hand_and_empty_without_extra_cost() {
    let out = TempDir::new().unwrap();
    let text = fs::read_to_string(LOSS_FIXTURE).unwrap().replace(
        "impact = { low = 250000, high = 4000000 }",
        "impact = 1000000",
    );
    let path = out.path().join("fixed.toml");
    fs::write(&path, &text).unwrap();
    killchain()
        .args([
            "compare",
            path.to_str().unwrap(),
            "--method",
            "exact",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let csv = fs::read_to_string(out.path().join("fixed/comparison.csv")).unwrap();
    let mut lines = csv.split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[15..],
        [
            "expected_annual_loss",
            "ale_ci_low",
            "ale_ci_high",
            "ale_reduction",
            "ale_reduction_ci_low",
            "ale_reduction_ci_high",
            "rosi",
            "rosi_ci_low",
            "rosi_ci_high",
            "loss_p50",
            "loss_p90",
            "loss_p99",
            "loss_p50_low",
            "loss_p50_high",
            "loss_p90_low",
            "loss_p90_high",
            "loss_p99_low",
            "loss_p99_high",
            "currency",
            "method"
        ]
    );
    let s = Scenario::from_toml(&text, "fixed.toml").unwrap();
    let p = |sc: &Scenario| exact::evaluate(sc).unwrap().completed;
    let base = 6.0 * p(&s) * 1e6;
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let find = |name: &str| rows.iter().find(|r| r[1] == name).unwrap();
    let variant = |name: &str| &s.variants.iter().find(|v| v.name == name).unwrap().scenario;
    // add-sandbox costs 20,000 a year more than the baseline.
    let sandbox = find("add-sandbox");
    let reduction = base - 6.0 * p(variant("add-sandbox")) * 1e6;
    assert_eq!(
        cell(&header, sandbox, "ale_reduction"),
        format!("{reduction:.2}")
    );
    let rosi = format!("{:.6}", (reduction - 20_000.0) / 20_000.0);
    assert_eq!(cell(&header, sandbox, "rosi"), rosi);
    // Exact: the interval is the value.
    assert_eq!(cell(&header, sandbox, "rosi_ci_low"), rosi);
    assert_eq!(cell(&header, sandbox, "rosi_ci_high"), rosi);
    assert_eq!(cell(&header, sandbox, "currency"), "USD");
    assert_eq!(cell(&header, sandbox, "method"), "exact");
    // mfa changes an environment fact at no cost: ROSI is empty, never inf or NaN.
    let mfa = find("mfa");
    assert_eq!(cell(&header, mfa, "annual_cost"), "0.00");
    assert_eq!(cell(&header, mfa, "rosi"), "");
    assert_eq!(cell(&header, mfa, "rosi_ci_low"), "");
    assert_eq!(cell(&header, find("baseline"), "rosi"), "");
    assert_eq!(
        cell(&header, find("baseline"), "expected_annual_loss"),
        format!("{base:.2}")
    );
}

/// `run`, `compare` and `rank` with `[loss]` write the same bytes at 1, 2 and 4 threads.
#[test]
fn loss_outputs_do_not_depend_on_threads() {
    let mut seen: Option<[Vec<Vec<u8>>; 3]> = None;
    for threads in ["1", "2", "4"] {
        let out = TempDir::new().unwrap();
        for cmd in ["run", "compare", "rank"] {
            killchain()
                .args([cmd, LOSS_FIXTURE, "--quiet", "--trials", "150001"])
                .args(["--threads", threads])
                .arg("--out")
                .arg(out.path().join(cmd))
                .assert()
                .success();
        }
        let run = read_files(
            &out.path().join("run/loss"),
            &["phases.csv", "controls.csv", "loss_exceedance.csv"],
        );
        let compare = read_files(
            &out.path().join("compare/loss"),
            &["comparison.csv", "phase_deltas.csv", "loss_exceedance.csv"],
        );
        let rank = read_files(&out.path().join("rank/loss"), &["ranking.csv"]);
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(out.path().join("run/loss/run.json")).unwrap())
                .unwrap();
        assert!(json["loss"]["years"].as_u64().unwrap() > 20_000);
        assert_eq!(json["loss"]["currency"], "USD");
        match &seen {
            None => seen = Some([run, compare, rank]),
            Some([r, c, k]) => {
                assert!(*k == rank, "rank differs at {threads} threads");
                assert!(*r == run, "run differs at {threads} threads");
                assert!(*c == compare, "compare differs at {threads} threads");
            }
        }
    }
}

/// Shards of a run with `[loss]` are whole years, and merged they give the whole run's files.
#[test]
fn merged_shards_with_loss_equal_the_whole_run() {
    let (seed, trials) = ("99", "200003");
    let root = TempDir::new().unwrap();
    let go = |out: &Path, extra: &[&str]| {
        killchain()
            .args([
                "run",
                LOSS_FIXTURE,
                "--quiet",
                "--seed",
                seed,
                "--trials",
                trials,
            ])
            .arg("--out")
            .arg(out)
            .args(extra)
            .assert()
            .success();
    };
    let whole = root.path().join("whole");
    go(&whole, &[]);
    let names = [
        "phases.csv",
        "controls.csv",
        "techniques.csv",
        "loss_exceedance.csv",
    ];
    for n in [2u64, 3, 7] {
        let dirs: Vec<_> = (1..=n)
            .map(|k| {
                let d = root.path().join(format!("n{n}-shard-{k}"));
                go(&d, &["--shard", &format!("{k}/{n}")]);
                d.join("loss")
            })
            .collect();
        let merged = root.path().join(format!("merged-{n}"));
        killchain()
            .arg("merge")
            .args(&dirs)
            .arg("--out")
            .arg(&merged)
            .arg("--quiet")
            .assert()
            .success();
        assert!(
            read_files(&merged.join("loss"), &names) == read_files(&whole.join("loss"), &names),
            "{n} shards differ from the whole run"
        );
        let json = |d: &Path| -> serde_json::Value {
            serde_json::from_slice(&fs::read(d.join("run.json")).unwrap()).unwrap()
        };
        assert_eq!(
            json(&merged.join("loss"))["loss"],
            json(&whole.join("loss"))["loss"]
        );
    }
}

/// Without `[loss]` nothing changes: no loss columns and no loss_exceedance.csv.
#[test]
fn without_loss_there_are_no_loss_columns() {
    let out = TempDir::new().unwrap();
    killchain()
        .args([
            "compare",
            "tests/data/valid/variants.toml",
            "--quiet",
            "--trials",
            "2000",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let dir = out.path().join("variants");
    let csv = fs::read_to_string(dir.join("comparison.csv")).unwrap();
    assert!(csv.starts_with("scenario,variant,seed,trials,annual_cost,completed,completion_rate,ci_low,ci_high,delta,delta_ci_low,delta_ci_high,changed_trials,min_effect,trials_for_min_effect,method\r\n"));
    assert!(!dir.join("loss_exceedance.csv").exists());
}

/// The loss exceedance file has exactly the documented header and a zero-loss first row.
#[test]
fn loss_exceedance_has_the_documented_header() {
    let out = TempDir::new().unwrap();
    killchain()
        .args(["run", LOSS_FIXTURE, "--quiet", "--trials", "60000"])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let csv = fs::read_to_string(out.path().join("loss/loss_exceedance.csv")).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "variant,annual_loss,probability_exceeded,ci_low,ci_high,band_low,band_high,currency,method"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0], "baseline");
    assert_eq!(first[1], "0");
    // probabilities never grow with the threshold
    let mut last = 1.0;
    for l in lines.filter(|l| !l.is_empty()) {
        let p: f64 = l.split(',').nth(2).unwrap().parse().unwrap();
        assert!(p <= last, "{l}");
        last = p;
    }
}

#[test]
fn a_loss_model_is_plain_data() {
    let m = LossModel {
        attacks_per_year: 2.0,
        impact: Impact::Pert {
            min: 0.0,
            mode: 3.0,
            max: 12.0,
        },
        currency: "EUR".into(),
    };
    assert_eq!(m.mean_impact(), 4.0);
    assert_eq!(m.exact_ale(0.5), 4.0);
}

/// `--method exact` gives λ · p · E[impact] and the exact probability of a year with any loss,
/// 1 − e^(−λp), in run.json and loss_exceedance.csv.
#[test]
fn exact_method_reports_exact_loss_figures() {
    let out = TempDir::new().unwrap();
    killchain()
        .args(["exact", LOSS_FIXTURE, "--quiet"])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let s = Scenario::from_toml(&fs::read_to_string(LOSS_FIXTURE).unwrap(), LOSS_FIXTURE).unwrap();
    let model = s.loss.clone().unwrap();
    let p = exact::evaluate(&s).unwrap().completed;
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("loss/run.json")).unwrap()).unwrap();
    let ale = json["loss"]["expected_annual_loss"].as_f64().unwrap();
    assert!((ale - 6.0 * p * model.mean_impact()).abs() <= 1e-9 * ale);
    assert_eq!(json["loss"]["ale_ci_low"].as_f64().unwrap(), ale);
    assert!(json["loss"]["loss_p50"].is_null());
    assert_eq!(json["loss"]["years"], 0);
    let csv = fs::read_to_string(out.path().join("loss/loss_exceedance.csv")).unwrap();
    let any = 1.0 - (-6.0 * p).exp();
    assert_eq!(
        csv,
        format!(
            "variant,annual_loss,probability_exceeded,ci_low,ci_high,band_low,band_high,currency,method\r\n\
             baseline,0,{any:.6},{any:.6},{any:.6},{any:.6},{any:.6},USD,exact\r\n"
        )
    );
}

/// A shard of a run with `[loss]` whose slice is not whole years is refused by `merge`.
#[test]
fn merge_refuses_a_loss_shard_not_cut_on_years() {
    let root = TempDir::new().unwrap();
    let dirs: Vec<_> = (1..=2)
        .map(|k| {
            let d = root.path().join(format!("shard-{k}"));
            killchain()
                .args(["run", LOSS_FIXTURE, "--quiet", "--trials", "140000"])
                .args(["--shard", &format!("{k}/2")])
                .arg("--out")
                .arg(&d)
                .assert()
                .success();
            d.join("loss")
        })
        .collect();
    // Move the boundary between the two shards by one trial, keeping each file consistent: its
    // range, its counts (one more or one fewer trial that failed at reconnaissance, where a
    // single technique is viable) and its digest.
    let edit = |dir: &Path, f: &dyn Fn(&mut serde_json::Value)| {
        let path = dir.join("tally.json");
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        f(&mut v);
        let bytes = serde_json::to_vec_pretty(&v).unwrap();
        fs::write(&path, killchain::fuzzing::reseal(&bytes).unwrap()).unwrap();
    };
    let shift = |v: &mut serde_json::Value, by: i64| {
        let x = v.as_i64().unwrap() + by;
        *v = x.into();
    };
    let one_trial = |v: &mut serde_json::Value, by: i64| {
        let t = &mut v["tally"];
        for count in ["trials", "breaks_technique_failed"] {
            shift(&mut t[count], by);
        }
        shift(&mut t["reached"][0], by);
        shift(&mut t["broken"][0], by);
        shift(&mut t["techniques"][0]["attempts"], by);
        shift(&mut t["techniques"][0]["failed"], by);
    };
    edit(&dirs[0], &|v| {
        shift(&mut v["trial_end"], 1);
        one_trial(v, 1);
    });
    edit(&dirs[1], &|v| {
        shift(&mut v["trial_start"], 1);
        one_trial(v, -1);
    });
    let assert = killchain()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(root.path().join("merged"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("(whole years), but the file holds") && stderr.contains("shard 1/2"),
        "{stderr}"
    );
    assert!(!root.path().join("merged").exists());
}

/// Too few trials for one whole year: the loss cells are empty, never a made-up zero.
#[test]
fn no_whole_year_leaves_the_loss_cells_empty() {
    let out = TempDir::new().unwrap();
    killchain()
        .args(["compare", LOSS_FIXTURE, "--quiet", "--trials", "3"])
        .args(["--method", "monte-carlo"])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let csv = fs::read_to_string(out.path().join("loss/comparison.csv")).unwrap();
    let row = csv.split("\r\n").nth(1).unwrap();
    assert!(
        row.ends_with(",0,0.010000,,,,,,,,,,,,,,,,,,,,USD,monte-carlo"),
        "{row}"
    );
}
