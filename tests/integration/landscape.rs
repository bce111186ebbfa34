//! Threat landscapes (`[[adversaries]]`): each adversary's figures are those of its own
//! one-adversary file, its trials are keyed by its id (so other adversaries change none of its
//! numbers), the totals are the sums, and the totals' intervals cover as often as they say.

use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{Csv, killchain};

const LANDSCAPE: &str = "tests/data/landscape/two-crews.toml";
/// The landscape's enabled adversaries and their one-adversary files.
const ALONE: [(&str, &str); 2] = [
    ("phish-crew", "tests/data/landscape/phish-crew.toml"),
    ("cred-crew", "tests/data/landscape/cred-crew.toml"),
];

fn command(args: &[&str], out: &Path) {
    killchain()
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

fn read(out: &Path, stem: &str, file: &str) -> Csv {
    Csv::read(&out.join(stem).join(file))
}

fn stem(path: &str) -> &str {
    Path::new(path).file_stem().unwrap().to_str().unwrap()
}

/// The rows of `file` for `adversary`, without the `adversary` and `seed` columns (the
/// landscape's rows name the run's seed; a one-adversary run names its own).
fn rows_of(t: &Csv, adversary: Option<&str>) -> Vec<Vec<String>> {
    let keep: Vec<usize> = (0..t.header.len())
        .filter(|&i| t.header[i] != "adversary" && t.header[i] != "seed")
        .collect();
    (t.rows.iter())
        .filter(|r| adversary.is_none_or(|a| r[t.col("adversary")] == a))
        .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
        .collect()
}

fn manifest(out: &Path, stem: &str) -> serde_json::Value {
    let bytes = std::fs::read(out.join(stem).join("run.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn each_adversary_has_exactly_the_figures_of_its_own_file() {
    let out = tempfile::tempdir().unwrap();
    let mut files = vec!["exact", LANDSCAPE];
    files.extend(ALONE.iter().map(|a| a.1));
    command(&files, out.path());
    for file in ["phases.csv", "techniques.csv"] {
        let landscape = read(out.path(), "two-crews", file);
        for (id, alone) in ALONE {
            let own = read(out.path(), stem(alone), file);
            assert!(own.rows.len() >= 7, "{file} of {alone}");
            assert_eq!(
                rows_of(&landscape, Some(id)),
                rows_of(&own, None),
                "{file}, {id}"
            );
        }
    }
    // The disabled insider is left out.
    let phases = read(out.path(), "two-crews", "phases.csv");
    assert!(phases.column("adversary").iter().all(|a| *a != "insider"));
    assert_eq!(phases.rows.len(), 14);
}

#[test]
fn the_totals_are_the_sums_of_the_adversaries_exact_figures() {
    let out = tempfile::tempdir().unwrap();
    let mut files = vec!["exact", LANDSCAPE];
    files.extend(ALONE.iter().map(|a| a.1));
    command(&files, out.path());
    let (mut successful, mut ale) = (0.0, 0.0);
    let mut ales = Vec::new();
    for (_, alone) in ALONE {
        let m = manifest(out.path(), stem(alone));
        let rate = m["loss"]["attacks_per_year"].as_f64().unwrap();
        successful += rate * m["completion_rate"].as_f64().unwrap();
        let a = m["loss"]["expected_annual_loss"].as_f64().unwrap();
        ale += a;
        ales.push(a);
    }
    let t = read(out.path(), "two-crews", "landscape.csv");
    assert_eq!(t.column("adversary"), ["phish-crew", "cred-crew", ""]);
    let total = t.rows.len() - 1;
    let num = |row: usize, col: &str| t.get(row, col).parse::<f64>().unwrap();
    assert!((num(total, "successful_per_year") - successful).abs() < 1e-6);
    assert!((num(total, "expected_annual_loss") - ale).abs() < 0.006);
    assert_eq!(num(total, "attacks_per_year"), 16.0);
    for (row, a) in ales.iter().enumerate() {
        assert!((num(row, "ale_share") - a / ale).abs() < 1e-6);
    }
    // Exact figures have point intervals.
    assert_eq!(
        t.get(total, "ale_ci_low"),
        t.get(total, "expected_annual_loss")
    );
    let m = manifest(out.path(), "two-crews");
    assert!((m["expected_annual_loss"].as_f64().unwrap() - ale).abs() < 1e-6);
    assert_eq!(m["disabled_adversaries"], serde_json::json!(["insider"]));
}

#[test]
fn each_adversary_plays_the_trials_of_its_own_file_on_the_seed_its_id_derives() {
    let out = tempfile::tempdir().unwrap();
    command(&["run", LANDSCAPE, "--trials", "30000"], out.path());
    let m = manifest(out.path(), "two-crews");
    let landscape = read(out.path(), "two-crews", "phases.csv");
    for (i, (id, alone)) in ALONE.into_iter().enumerate() {
        assert_eq!(m["adversaries"][i]["id"], id);
        let seed = m["adversaries"][i]["seed"].as_u64().unwrap().to_string();
        let own = tempfile::tempdir().unwrap();
        command(
            &["run", alone, "--trials", "30000", "--seed", &seed],
            own.path(),
        );
        for file in ["phases.csv", "techniques.csv"] {
            let own = read(own.path(), stem(alone), file);
            let landscape = read(out.path(), "two-crews", file);
            assert_eq!(
                rows_of(&landscape, Some(id)),
                rows_of(&own, None),
                "{file}, {id}"
            );
        }
    }
    assert_eq!(landscape.rows.len(), 14);
}

/// `text` with the adversaries of the landscape rewritten by `edit`.
fn edited(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(LANDSCAPE).unwrap();
    std::fs::write(dir.path().join("two-crews.toml"), edit(&text)).unwrap();
    dir
}

#[test]
fn adding_or_moving_an_adversary_changes_no_other_adversarys_numbers() {
    let base = tempfile::tempdir().unwrap();
    command(&["run", LANDSCAPE, "--trials", "20000"], base.path());
    // The insider enabled: a third adversary joins.
    let more = edited(|t| t.replace("enabled = false\n", ""));
    // The credential crew moved before the phishing crew.
    let moved = edited(|t| {
        let start = t.find("[[adversaries]]\nid = \"cred-crew\"").unwrap();
        let end = t.find("[[adversaries]]\nid = \"insider\"").unwrap();
        let first = t.find("[[adversaries]]\nid = \"phish-crew\"").unwrap();
        format!(
            "{}{}{}{}",
            &t[..first],
            &t[start..end],
            &t[first..start],
            &t[end..]
        )
    });
    for (what, dir, adversaries) in [("more", &more, 3), ("moved", &moved, 2)] {
        let file = dir.path().join("two-crews.toml");
        let out = tempfile::tempdir().unwrap();
        command(
            &["run", file.to_str().unwrap(), "--trials", "20000"],
            out.path(),
        );
        for name in ["phases.csv", "controls.csv", "techniques.csv"] {
            let a = read(base.path(), "two-crews", name);
            let b = read(out.path(), "two-crews", name);
            let ids: std::collections::BTreeSet<&str> = b.column("adversary").into_iter().collect();
            assert_eq!(ids.len(), adversaries, "{what}: {name}");
            for (id, _) in ALONE {
                assert_eq!(
                    rows_of(&a, Some(id)),
                    rows_of(&b, Some(id)),
                    "{what}: {name}, {id}"
                );
            }
        }
    }
}

#[test]
fn a_landscape_gives_the_same_bytes_for_any_thread_count() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    command(
        &["run", LANDSCAPE, "--trials", "40000", "--threads", "1"],
        a.path(),
    );
    command(
        &["run", LANDSCAPE, "--trials", "40000", "--threads", "2"],
        b.path(),
    );
    for file in [
        "phases.csv",
        "controls.csv",
        "techniques.csv",
        "landscape.csv",
        "loss_exceedance.csv",
    ] {
        let read = |d: &Path| std::fs::read(d.join("two-crews").join(file)).unwrap();
        assert_eq!(read(a.path()), read(b.path()), "{file}");
    }
}

#[test]
fn what_a_landscape_cannot_do_yet_is_refused_and_writes_nothing() {
    for args in [
        vec!["compare", LANDSCAPE, ALONE[0].1],
        vec![
            "optimize",
            LANDSCAPE,
            "--budget",
            "100000",
            "--method",
            "monte-carlo",
        ],
        vec!["run", LANDSCAPE, "--shard", "1/2"],
        vec!["run", LANDSCAPE, "--report"],
    ] {
        let out = tempfile::tempdir().unwrap();
        killchain()
            .args(&args)
            .arg("--out")
            .arg(out.path())
            .assert()
            .code(2)
            .stderr(predicates::str::contains("threat landscape"));
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            0,
            "{args:?}"
        );
    }
}

/// Wilson intervals of independent binomial rates, scaled by each adversary's rate and summed
/// by MOVER, cover the true total Σ λ·p about as often as the 95 % they state (measured over
/// 4,000 simulated landscapes with fixed seeds, small and skewed rates among them).
#[test]
fn the_totals_interval_covers_the_true_total_about_95_percent_of_the_time() {
    use killchain::stats::landscape::{scaled, sum_of_independent};
    use killchain::stats::wilson;
    let parts = [(12.0, 0.03, 2000u64), (4.0, 0.007, 2000), (0.5, 0.4, 500)];
    let truth: f64 = parts.iter().map(|&(l, p, _)| l * p).sum();
    let mut rng = ChaCha8Rng::seed_from_u64(20261204);
    let reps = 4000;
    let mut covered = 0;
    for _ in 0..reps {
        let intervals: Vec<_> = (parts.iter())
            .map(|&(lambda, p, n)| {
                let k = (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
                let (lo, hi) = wilson(k, n, 1.959_963_984_540_054);
                scaled(lambda, (k as f64 / n as f64, lo, hi))
            })
            .collect();
        let (_, lo, hi) = sum_of_independent(&intervals);
        covered += usize::from(lo <= truth && truth <= hi);
    }
    let coverage = covered as f64 / reps as f64;
    let se = (0.95f64 * 0.05 / reps as f64).sqrt();
    assert!(
        (coverage - 0.95).abs() < 4.0 * se + 0.01,
        "coverage {coverage} (SE {se})"
    );
}

/// `landscape_comparison.csv` of `out`, with a number reader.
fn comparison(out: &Path) -> Csv {
    read(out, "two-crews", "landscape_comparison.csv")
}

fn number(t: &Csv, row: usize, col: &str) -> f64 {
    let cell = t.get(row, col);
    cell.parse().unwrap_or_else(|_| panic!("{col}: {cell:?}"))
}

#[test]
fn a_landscape_comparisons_totals_are_its_adversaries_sums_and_each_variant_is_its_edited_file() {
    let out = tempfile::tempdir().unwrap();
    command(&["compare", LANDSCAPE, "--method", "exact"], out.path());
    let t = comparison(out.path());
    let variants = [
        "baseline",
        "no-mfa",
        "stronger-edr",
        "better-click-training",
    ];
    assert_eq!(t.rows.len(), variants.len() * 3);
    let base_cost = number(&t, 0, "annual_cost");
    for (v, name) in variants.iter().enumerate() {
        let (a, b, total) = (3 * v, 3 * v + 1, 3 * v + 2);
        assert_eq!(t.get(total, "variant"), *name);
        assert_eq!(t.get(total, "adversary"), "");
        for col in ["successful_per_year", "successful_change", "ale_reduction"] {
            let sum = number(&t, a, col) + number(&t, b, col);
            assert!((number(&t, total, col) - sum).abs() < 2e-6, "{name}: {col}");
        }
        let net =
            number(&t, total, "ale_reduction") - (number(&t, total, "annual_cost") - base_cost);
        assert!(
            (number(&t, total, "net_benefit") - net).abs() < 0.011,
            "{name}"
        );
    }
    // stronger-edr is the landscape with the EDR's effectiveness at 0.85: its exact ALEs.
    let edited = edited(|t| {
        t.replace(
            "effectiveness = 0.6\nresponse = 0.7",
            "effectiveness = 0.85\nresponse = 0.7",
        )
    });
    let file = edited.path().join("two-crews.toml");
    let exact = tempfile::tempdir().unwrap();
    command(&["exact", file.to_str().unwrap()], exact.path());
    let alone = read(exact.path(), "two-crews", "landscape.csv");
    for row in 0..2 {
        assert_eq!(alone.get(row, "adversary"), t.get(6 + row, "adversary"));
        assert_eq!(
            alone.get(row, "expected_annual_loss"),
            t.get(6 + row, "expected_annual_loss")
        );
    }
}

#[test]
fn a_simulated_landscape_comparison_agrees_with_the_exact_one_and_pairs_each_adversarys_trials() {
    let (mc, exact) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let trials = ["--trials", "60000"];
    let mut args = vec!["compare", LANDSCAPE, "--method", "monte-carlo"];
    args.extend(trials);
    command(&args, mc.path());
    command(&["compare", LANDSCAPE, "--method", "exact"], exact.path());
    let (m, e) = (comparison(mc.path()), comparison(exact.path()));
    for row in 0..m.rows.len() {
        for (col, low, high) in [
            (
                "successful_change",
                "successful_change_ci_low",
                "successful_change_ci_high",
            ),
            (
                "ale_reduction",
                "ale_reduction_ci_low",
                "ale_reduction_ci_high",
            ),
        ] {
            let se = (number(&m, row, high) - number(&m, row, low)) / 3.92;
            let z = (number(&m, row, col) - number(&e, row, col)) / se.max(1e-12);
            let name = format!("{} {}", m.get(row, "variant"), m.get(row, "adversary"));
            assert!(z.abs() < 4.0, "{name} {col}: z = {z}");
        }
    }
    // A variant that leaves an adversary's controls alone plays that adversary's trials as the
    // baseline does: no trial changes.
    let c = read(mc.path(), "two-crews", "comparison.csv");
    for (variant, adversary) in [
        ("no-mfa", "phish-crew"),
        ("better-click-training", "cred-crew"),
    ] {
        let row = (0..c.rows.len())
            .find(|&r| c.get(r, "variant") == variant && c.get(r, "adversary") == adversary)
            .unwrap();
        assert_eq!(c.get(row, "changed_trials"), "0", "{variant} {adversary}");
    }
}

#[test]
fn a_landscape_ranking_sums_each_controls_effect_over_the_adversaries() {
    for method in ["exact", "monte-carlo"] {
        let out = tempfile::tempdir().unwrap();
        command(
            &["rank", LANDSCAPE, "--method", method, "--trials", "30000"],
            out.path(),
        );
        let per = read(out.path(), "two-crews", "ranking.csv");
        let total = read(out.path(), "two-crews", "landscape_ranking.csv");
        let rates = [("phish-crew", 12.0), ("cred-crew", 4.0)];
        assert_eq!(per.rows.len(), 2 * total.rows.len());
        for row in 0..total.rows.len() {
            let control = total.get(row, "control");
            let of = |adversary: &str, col: &str| -> f64 {
                let r = (0..per.rows.len())
                    .find(|&r| {
                        per.get(r, "adversary") == adversary && per.get(r, "control") == control
                    })
                    .unwrap();
                number(&per, r, col)
            };
            let successful: f64 = rates.iter().map(|&(a, l)| l * of(a, "delta")).sum();
            let ale: f64 = rates.iter().map(|&(a, _)| of(a, "ale_delta")).sum();
            assert!(
                (number(&total, row, "successful_change") - successful).abs() < 1e-5,
                "{method} {control}"
            );
            assert!(
                (number(&total, row, "ale_change") - ale).abs() < 0.011,
                "{method} {control}"
            );
            // The mail filter acts on the phishing crew alone, MFA on the credential crew alone.
            if control == "mail-filter" {
                assert_eq!(of("cred-crew", "delta"), 0.0, "{method}");
            }
            if control == "mfa" {
                assert_eq!(of("phish-crew", "delta"), 0.0, "{method}");
            }
        }
    }
}

/// An edit of the landscape's text.
type Edit<'a> = &'a dyn Fn(&str) -> String;

#[test]
fn a_landscapes_errors_name_the_adversary_and_point_at_it() {
    let cases: [(&str, Edit, &str); 4] = [
        (
            "a variant that sets an adversary's rate",
            &|t| {
                format!(
                    "{t}\n[[variants]]\nname = \"more-phish\"\nset = {{ \"phish-crew.attacks_per_year\" = 20 }}\n"
                )
            },
            ":215:9: variant \"more-phish\": set key \"phish-crew.attacks_per_year\": adversary \"phish-crew\" cannot be changed by a variant yet (its rate sets the simulated years every arm shares); edit it in a copy of the file and run each copy\n",
        ),
        (
            "a variant that enables an adversary",
            &|t| format!("{t}\n[[variants]]\nname = \"with-insider\"\nenable = [\"insider\"]\n"),
            ":215:11: variant \"with-insider\": \"insider\" in `enable` is an adversary; enable/disable take control ids (a variant cannot switch adversaries yet: set `enabled` on the adversary in a copy of the file); controls: mail-filter, mfa, edr, backups\n",
        ),
        (
            "a bad impact of an adversary",
            &|t| t.replace("impact = 150000", "impact = { low = 5, high = 2 }"),
            ":85:10: adversary \"cred-crew\": impact: low (5) must be above 0 and below high (2)\n",
        ),
        (
            "every adversary disabled",
            &|t| {
                t.replace(
                    "attacks_per_year = 12\n",
                    "attacks_per_year = 12\nenabled = false\n",
                )
                .replace(
                    "attacks_per_year = 4\n",
                    "attacks_per_year = 4\nenabled = false\n",
                )
            },
            ":19:1: every adversary of [[adversaries]] is disabled (`enabled = false`); enable at least one\n",
        ),
    ];
    for (what, edit, message) in cases {
        let dir = edited(edit);
        let file = dir.path().join("two-crews.toml");
        let shown = file.to_str().unwrap();
        killchain()
            .args(["validate", shown])
            .assert()
            .append_context("case", what)
            .code(2)
            .stdout("")
            .stderr(format!("error: {shown}{message}"));
    }
}

/// The landscape's years are the adversaries' own years summed: over the years every
/// adversary's run holds, the total of the summed years equals, to the unit, the sum over the
/// adversaries of the losses of those years in a run of each adversary alone (on the seed
/// `run.json` names for it); on 1 and 2 threads alike.
#[test]
fn the_landscapes_years_sum_each_adversarys_own_years() {
    use killchain::engine::Plan;
    use killchain::sim::landscape::{AdversaryYears, total_years};
    use killchain::sim::years::{YearLayout, YearStart};

    let out = tempfile::tempdir().unwrap();
    command(&["run", LANDSCAPE, "--trials", "30000"], out.path());
    let m = manifest(out.path(), "two-crews");
    let years = m["annual_loss"]["years"].as_u64().unwrap();
    let s = crate::support::load(LANDSCAPE);
    let parts = s.parts();
    let seeds: Vec<u64> = (m["adversaries"].as_array().unwrap().iter())
        .map(|a| a["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds.len(), parts.len());
    let plans: Vec<Plan> = parts.iter().map(|p| Plan::new(&p.scenario)).collect();
    let layouts: Vec<YearLayout> = (parts.iter().zip(&seeds))
        .map(|(p, &seed)| YearLayout::new(p.scenario.loss.as_ref().unwrap(), seed))
        .collect();
    // Each adversary alone, on the trials of its first `years` years.
    let mut own = 0u128;
    let mut own_years = Vec::new();
    for ((part, plan), (layout, &seed)) in parts.iter().zip(&plans).zip(layouts.iter().zip(&seeds))
    {
        let mut at = YearStart::ZERO;
        while at.year < years {
            at = layout.step(at, u64::MAX).unwrap();
        }
        let loss = part.scenario.loss.as_ref();
        let arm = crate::support::play(std::slice::from_ref(plan), loss, seed, at.trial, Some(2));
        let tally = &arm[0].loss.as_ref().unwrap().tally;
        // Years without a campaign right after year `years` end within those trials too.
        assert!(tally.years >= years);
        own += tally.sum;
        own_years.push(layout.years_per_unit());
    }
    let adversaries: Vec<AdversaryYears<'_>> = (plans.iter().zip(&layouts).zip(&seeds))
        .map(|((plan, layout), &seed)| AdversaryYears { plan, seed, layout })
        .collect();
    for threads in [1, 2] {
        let stop = std::sync::atomic::AtomicUsize::new(0);
        let session = killchain::sim::Session::new(Some(threads), &stop).unwrap();
        let total = session
            .run(|w| total_years(&adversaries, years, w))
            .unwrap();
        assert_eq!(total.years, years);
        assert_eq!(total.sum, own, "{threads} threads");
    }
    // The run's own years: the fewest any adversary's run counts.
    let landscape = read(out.path(), "two-crews", "landscape.csv");
    let counted: Vec<u64> = (0..landscape.rows.len())
        .map(|r| landscape.get(r, "years").parse().unwrap())
        .collect();
    assert_eq!(
        counted.last().copied(),
        counted[..counted.len() - 1].iter().min().copied()
    );
    assert_eq!(*counted.last().unwrap(), years);
}

/// With fixed impacts the landscape's annual loss is a sum of independent compound Poisson
/// terms, a·N₁ + b·N₂ with Nₐ ~ Poisson(λₐ·pₐ) (pₐ from `exact`): every point of the total's
/// exceedance curve from 400,000 campaigns per adversary lies within 4 standard errors of the
/// exact probability, and `exact` states the probability of any loss, 1 − e^(−Σ λₐ·pₐ).
#[test]
fn the_landscapes_annual_loss_curve_is_the_compound_poisson_one() {
    let text = std::fs::read_to_string(LANDSCAPE)
        .unwrap()
        .replace("impact = { low = 20000, high = 400000 }", "impact = 100000");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fixed.toml");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    let out = dir.path().join("out");
    command(&["exact", file], &out);
    let exact = read(&out, "fixed", "landscape.csv");
    let mu: Vec<f64> = (0..2)
        .map(|r| exact.get(r, "successful_per_year").parse().unwrap())
        .collect();
    let (a, b) = (100_000.0, 150_000.0);
    let any = 1.0 - (-(mu[0] + mu[1])).exp();
    let curve = read(&out, "fixed", "loss_exceedance.csv");
    let total_row = (0..curve.rows.len())
        .find(|&r| curve.get(r, "adversary").is_empty())
        .unwrap();
    let stated: f64 = curve
        .get(total_row, "probability_exceeded")
        .parse()
        .unwrap();
    assert!((stated - any).abs() < 1e-6, "{stated} vs {any}");

    // P(a·N₁ + b·N₂ > x), summing the Poisson terms to far beyond their tails.
    let pois = |mu: f64| -> Vec<f64> {
        let mut p = vec![(-mu).exp()];
        for k in 1..60 {
            let next = p[k - 1] * mu / k as f64;
            p.push(next);
        }
        p
    };
    let (p1, p2) = (pois(mu[0]), pois(mu[1]));
    let exceeds = |x: f64| -> f64 {
        let mut below = 0.0;
        for (n1, q1) in p1.iter().enumerate() {
            for (n2, q2) in p2.iter().enumerate() {
                if a * n1 as f64 + b * n2 as f64 <= x {
                    below += q1 * q2;
                }
            }
        }
        1.0 - below
    };
    let out = dir.path().join("mc");
    command(&["run", file, "--trials", "400000", "--seed", "77"], &out);
    let curve = read(&out, "fixed", "loss_exceedance.csv");
    let m = manifest(&out, "fixed");
    let years = m["annual_loss"]["years"].as_f64().unwrap();
    assert!(years > 30_000.0, "{years}");
    let mut checked = 0;
    for r in (0..curve.rows.len()).filter(|&r| curve.get(r, "adversary").is_empty()) {
        let x: f64 = curve.get(r, "annual_loss").parse().unwrap();
        let p: f64 = curve.get(r, "probability_exceeded").parse().unwrap();
        let want = exceeds(x);
        let se = (want * (1.0 - want) / years).sqrt();
        assert!(
            (p - want).abs() <= 4.0 * se,
            "at {x}: {p} vs {want} (SE {se})"
        );
        checked += 1;
    }
    assert!(checked >= 5, "{checked} points");
}

/// The workbook of a landscape run draws each adversary's funnel from that adversary's rows of
/// the phases sheet, titled with its id, and "who costs what" from each adversary's expected
/// annual loss on the landscape sheet (the total's row left out).
#[test]
fn the_landscape_workbook_charts_each_adversarys_funnel_and_who_costs_what() {
    let out = tempfile::tempdir().unwrap();
    command(
        &["run", LANDSCAPE, "--trials", "20000", "--xlsx"],
        out.path(),
    );
    let dir = out.path().join("two-crews");
    let bytes = std::fs::read(dir.join("results.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut chart = |n: usize| {
        let mut s = String::new();
        let name = format!("xl/charts/chart{n}.xml");
        std::io::Read::read_to_string(&mut zip.by_name(&name).unwrap(), &mut s).unwrap();
        s
    };
    // Column letters of the CSV files' columns, as the sheets keep them.
    let letter = |t: &Csv, name: &str| char::from(b'A' + t.col(name) as u8);
    let phases = read(out.path(), "two-crews", "phases.csv");
    for (n, id) in [(1, "phish-crew"), (2, "cred-crew")] {
        let rows: Vec<usize> = (0..phases.rows.len())
            .filter(|&r| phases.get(r, "adversary") == id)
            .collect();
        assert_eq!(rows.len(), 7);
        let (first, last) = (rows[0] + 2, rows[6] + 2);
        let c = chart(n);
        assert!(
            c.contains(&format!("Kill-chain funnel of adversary {id}")),
            "{c}"
        );
        for column in ["phase", "reached", "broken"] {
            let l = letter(&phases, column);
            let range = format!("phases!${l}${first}:${l}${last}");
            assert!(c.contains(&range), "{id}: {range}");
        }
    }
    let landscape = read(out.path(), "two-crews", "landscape.csv");
    let c = chart(3);
    assert!(c.contains("Who costs what: expected annual loss by adversary"));
    for column in ["adversary", "expected_annual_loss"] {
        let l = letter(&landscape, column);
        assert!(
            c.contains(&format!("landscape!${l}$2:${l}$3")),
            "{column}: {c}"
        );
    }
}
