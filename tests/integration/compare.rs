//! `killchain compare` and `killchain rank`: paired differences against exact ones, common random
//! numbers, coverage and width of the paired interval, determinism across thread counts, and the
//! command line (messages, output folders, CSV headers, the ranking).
//!
//! Statistical checks use fixed seeds, so every test is deterministic. The paired estimate of a
//! difference is the mean of the per-trial differences D_i = X_variant,i − X_baseline,i ∈ {−1, 0, 1};
//! from the paired 2×2 table, d = (first_only − second_only)/n, Var(D) = (first_only +
//! second_only)/n − d², SE = sqrt(Var(D)/n). Tolerance: |d − exact| ≤ 4 SE ([`Z_MAX`]), which a
//! correct engine exceeds with probability ≈ 6e-5 per check.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use tempfile::TempDir;

use killchain::analysis::arms::Arm;
use killchain::engine::Plan;
use killchain::exact;
use killchain::phase::{N_PHASES, Phase};
use killchain::scenario::{BASELINE, Scenario};
use killchain::stats::{PairedTable, Z95, sidak_z, wilson};

use crate::support::{self, Csv, entries, killchain, load, read_files, refused, run};

/// Tolerance of every paired-difference check against an exact value, in standard errors.
const Z_MAX: f64 = 4.0;

const RANSOMWARE: &str = "scenarios/ransomware-midsize.toml";
const VARIANTS: &str = "tests/data/valid/variants.toml";
const TINY: &str = "tests/data/valid/tiny.toml";

fn fixture(name: &str) -> String {
    format!("tests/data/compare/{name}.toml")
}

/// The baseline and each variant, named as `killchain compare` names them.
fn arms_of(s: &Scenario) -> Vec<(String, &Scenario)> {
    let mut named = vec![(BASELINE.to_owned(), s)];
    named.extend(s.variants.iter().map(|v| (v.name.clone(), &v.scenario)));
    named
}

/// Plays the arms (baseline first) on trials `0..trials` with the same random slots, as
/// `killchain compare` does.
fn play<'a>(named: Vec<(String, &'a Scenario)>, seed: u64, trials: u64) -> Vec<Arm<'a>> {
    let plans: Vec<Plan> = named.iter().map(|(_, s)| Plan::new(s)).collect();
    let results = support::play(&plans, None, seed, trials, None);
    named
        .into_iter()
        .zip(results)
        .map(|((name, scenario), r)| Arm {
            name,
            scenario,
            tally: r.tally,
            joint: r.joint,
        })
        .collect()
}

/// Mean and standard error of the paired differences first − second (see the module comment).
fn paired_mean_se(t: &PairedTable) -> (f64, f64) {
    let n = t.n() as f64;
    let d = (t.first_only as f64 - t.second_only as f64) / n;
    let var = ((t.first_only + t.second_only) as f64 / n - d * d).max(0.0);
    (d, (var / n).sqrt())
}

/// Collects the checks of paired differences against exact ones, so that a failure lists them
/// all.
#[derive(Default)]
struct Deltas {
    count: usize,
    max_z: f64,
    worst: String,
    failures: Vec<String>,
}

impl Deltas {
    /// The paired table's difference against `exact`: within [`Z_MAX`] standard errors. When no
    /// trial is discordant (SE = 0) the estimate is 0, and the exact difference must be below
    /// 10/n in absolute value: a discordance probability of at least |exact| would have shown a
    /// discordant trial with probability ≥ 1 − e^(−10).
    fn check(&mut self, what: &str, t: &PairedTable, exact: f64) {
        self.count += 1;
        let n = t.n() as f64;
        let (d, se) = paired_mean_se(t);
        if se == 0.0 {
            if (d - exact).abs() * n > 10.0 {
                self.failures.push(format!(
                    "{what}: no discordant trial among {n}, but the exact difference is {exact:.6}"
                ));
            }
            return;
        }
        let z = (d - exact) / se;
        if z.abs() > self.max_z {
            self.max_z = z.abs();
            self.worst = what.to_owned();
        }
        if z.abs() > Z_MAX {
            self.failures.push(format!(
                "{what}: paired estimate {d:+.6} (SE {se:.6}), exact {exact:+.6}, z = {z:+.2}"
            ));
        }
    }

    fn finish(self, label: &str) {
        eprintln!(
            "{label}: {} paired differences, max |z| = {:.3} ({})",
            self.count, self.max_z, self.worst
        );
        assert!(
            self.failures.is_empty(),
            "{label}: {} of {} differences are more than {Z_MAX} SE from the exact value:\n  {}",
            self.failures.len(),
            self.count,
            self.failures.join("\n  ")
        );
    }
}

/// Every variant of the file at a fixed seed: the paired change in completion rate and in each
/// phase's `broken_share` against the difference of the exact values.
fn paired_deltas_match_exact(path: &str, seed: u64, trials: u64) {
    let s = load(path);
    assert!(!s.variants.is_empty(), "{path} has no variants");
    let arms = play(arms_of(&s), seed, trials);
    let base = exact::evaluate(&s).unwrap();
    let mut checks = Deltas::default();
    for arm in &arms[1..] {
        let ex = exact::evaluate(arm.scenario).unwrap();
        checks.check(
            &format!("{}: completion", arm.name),
            &arm.completion_table(),
            ex.completed - base.completed,
        );
        for phase in Phase::ALL {
            let i = phase.index();
            checks.check(
                &format!("{}: broken_share at {phase}", arm.name),
                &arm.broken_table(i),
                ex.broken[i] - base.broken[i],
            );
        }
    }
    checks.finish(path);
}

// ------------------------------------------------------------------ paired deltas against exact

/// add-sandbox enables a control, mfa changes an environment fact (so vpn-login's `requires`
/// no longer hold), better-filter changes parameters only.
#[test]
fn paired_deltas_of_the_tiny_variants_agree_with_exact_differences() {
    let s = load(VARIANTS);
    let vpn = s
        .techniques
        .iter()
        .position(|t| t.id == "vpn-login")
        .unwrap();
    let mfa = &s
        .variants
        .iter()
        .find(|v| v.name == "mfa")
        .unwrap()
        .scenario;
    assert!(s.techniques[vpn].viable && !mfa.techniques[vpn].viable);
    paired_deltas_match_exact(VARIANTS, 7, 200_000);
}

/// The shipped variants: switched controls, an environment fact (add-vpn-mfa, mfa-and-edr) and a
/// parameter alone (faster-patching).
#[test]
fn paired_deltas_of_the_shipped_variants_agree_with_exact_differences() {
    paired_deltas_match_exact(RANSOMWARE, 20_261_127, 100_000);
}

// ------------------------------------------------------------------ common random numbers

/// A plan identical to the baseline plays every trial the same: a diagonal joint, equal tallies.
/// And a variant that changes only phase `k` leaves every trial broken before `k` untouched.
#[test]
fn an_identical_plan_has_a_diagonal_joint() {
    let s = load(RANSOMWARE);
    let copy = s.clone();
    let arms = play(
        vec![(BASELINE.to_owned(), &s), ("copy".to_owned(), &copy)],
        5,
        70_000,
    );
    assert_eq!(arms[1].tally, arms[0].tally);
    for arm in &arms {
        for (b, row) in arm.joint.iter().enumerate() {
            for (v, &k) in row.iter().enumerate() {
                assert!(
                    b == v || k == 0,
                    "{}: {k} trials with outcome {b} in the baseline and {v} here",
                    arm.name
                );
            }
        }
        assert_eq!(arm.changed_trials(), 0);
        let t = arm.completion_table();
        assert_eq!((t.first_only, t.second_only), (0, 0));
        assert_eq!(t.difference().unwrap().0, 0.0);
    }
    assert_eq!(
        arms[1].joint.iter().flatten().sum::<u64>(),
        70_000,
        "every trial is in the joint"
    );

    // add-sandbox only changes exploitation: a trial broken at an earlier phase in the baseline
    // is broken at the same phase in the variant.
    let v = load(VARIANTS);
    let arms = play(arms_of(&v), 3, 20_000);
    let sandbox = arms.iter().find(|a| a.name == "add-sandbox").unwrap();
    let exploitation = Phase::Exploitation.index();
    for b in 0..exploitation {
        for (o, &k) in sandbox.joint[b].iter().enumerate() {
            assert!(
                o == b || k == 0,
                "broken at {b} in the baseline, {o} with the sandbox"
            );
        }
    }
    assert!(sandbox.changed_trials() > 0);
}

/// Through the binary: variants that change nothing report a delta of exactly 0, no changed
/// trial, and the baseline's phases row for row.
#[test]
fn a_variant_identical_to_the_baseline_changes_no_trial() {
    let out = TempDir::new().unwrap();
    killchain()
        .args(["compare", &fixture("same-as-baseline"), "--trials", "5000"])
        .args(["--method", "monte-carlo"])
        .args(["--seed", "9", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    let dir = out.path().join("same-as-baseline");
    let comparison = Csv::read(&dir.join("comparison.csv"));
    assert_eq!(
        comparison.column("variant"),
        ["baseline", "same-edr", "edr-on-again"]
    );
    for row in 0..comparison.rows.len() {
        assert_eq!(comparison.get(row, "delta"), "0.000000");
        assert_eq!(comparison.get(row, "changed_trials"), "0");
        assert_eq!(
            comparison.get(row, "completed"),
            comparison.get(0, "completed")
        );
        let lo: f64 = comparison.get(row, "delta_ci_low").parse().unwrap();
        let hi: f64 = comparison.get(row, "delta_ci_high").parse().unwrap();
        assert!(lo <= 0.0 && 0.0 <= hi, "row {row}: [{lo}, {hi}]");
    }
    let deltas = Csv::read(&dir.join("phase_deltas.csv"));
    assert_eq!(deltas.rows.len(), 2 * N_PHASES);
    assert!(deltas.column("delta").iter().all(|d| *d == "0.000000"));
    let phases = Csv::read(&dir.join("phases.csv"));
    assert_eq!(phases.rows.len(), 3 * N_PHASES);
    for row in N_PHASES..3 * N_PHASES {
        let mut cells = phases.rows[row].clone();
        cells[1] = BASELINE.to_owned();
        assert_eq!(cells, phases.rows[row % N_PHASES], "phases.csv row {row}");
    }
}

// ------------------------------------------------------------------ coverage and width

/// Over seeds 0..200 the paired 95 % interval (Newcombe's method 10, as `compare` reports it) of
/// the change in completion rate covers the exact change in 92 % to 98 % of the runs. With a true
/// coverage of 95 %, the count of 200 lands outside [184, 196] with probability ≈ 5 %; the seeds
/// are fixed, so the outcome is deterministic.
#[test]
fn paired_interval_covers_the_exact_delta_about_95_percent_of_the_time() {
    const SEEDS: u64 = 200;
    const TRIALS: u64 = 2_000;
    let s = load(&fixture("coverage"));
    let exact_delta = exact::evaluate(&s.variants[0].scenario).unwrap().completed
        - exact::evaluate(&s).unwrap().completed;
    assert!(
        (-0.07..=-0.03).contains(&exact_delta),
        "the fixture should have a moderate delta, not {exact_delta}"
    );
    let plans = [Plan::new(&s), Plan::new(&s.variants[0].scenario)];
    let mut covered = 0;
    let mut width = 0.0;
    for seed in 0..SEEDS {
        let results = support::play(&plans, None, seed, TRIALS, Some(1));
        let arm = Arm {
            name: s.variants[0].name.clone(),
            scenario: &s.variants[0].scenario,
            tally: results[1].tally.clone(),
            joint: results[1].joint,
        };
        let (_, lo, hi) = arm.completion_table().difference().unwrap();
        width += hi - lo;
        if lo <= exact_delta && exact_delta <= hi {
            covered += 1;
        }
    }
    let coverage = f64::from(covered) / SEEDS as f64;
    eprintln!(
        "coverage of the paired 95 % interval: {covered}/{SEEDS} = {:.1} % (exact delta {exact_delta:+.6}, mean width {:.4}, {TRIALS} trials)",
        100.0 * coverage,
        width / SEEDS as f64
    );
    assert!(
        (0.92..=0.98).contains(&coverage),
        "coverage {covered}/{SEEDS} is outside 92 %..98 %"
    );
}

/// Newcombe's hybrid score interval (his method 10 for independent proportions, from Wilson
/// intervals) for p1 − p2, with `k1` of `n1` and `k2` of `n2`.
fn unpaired_interval(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, f64, f64) {
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let ((l1, u1), (l2, u2)) = (wilson(k1, n1, Z95), wilson(k2, n2, Z95));
    let d = p1 - p2;
    let lo = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let hi = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    (d, lo, hi)
}

/// The paired interval against the unpaired one of two independent runs of the same size
/// (baseline at seed S, variant at seed S + 1). A variant that changes few trials gains most from
/// pairing; one that stops nearly every completed attack (add-edr-mdr: delta ≈ −0.09 of a
/// completion rate ≈ 0.10) changes about as many trials as an independent run would, so its
/// paired interval is barely narrower. The ≥ 3× bound is asserted for faster-patching; every
/// ratio is printed, and must exceed 1.
#[test]
fn paired_interval_is_much_narrower_than_an_unpaired_one() {
    const SEED: u64 = 20_261_127;
    const TRIALS: u64 = 60_000;
    let s = load(RANSOMWARE);
    let arms = play(arms_of(&s), SEED, TRIALS);
    let baseline = run(&Plan::new(&s), SEED, TRIALS, None);
    assert_eq!(baseline, arms[0].tally, "run and run_paired differ");
    let mut ratios = Vec::new();
    for arm in &arms[1..] {
        let (_, plo, phi) = arm.completion_table().difference().unwrap();
        let other = run(&Plan::new(arm.scenario), SEED + 1, TRIALS, None);
        let (_, ulo, uhi) = unpaired_interval(other.completed, TRIALS, baseline.completed, TRIALS);
        let ratio = (uhi - ulo) / (phi - plo);
        eprintln!(
            "{}: paired width {:.6}, unpaired width {:.6}, ratio {ratio:.2}",
            arm.name,
            phi - plo,
            uhi - ulo
        );
        assert!(ratio > 1.0, "{}: ratio {ratio}", arm.name);
        ratios.push((arm.name.as_str(), ratio));
    }
    let (_, patching) = ratios
        .iter()
        .find(|(n, _)| *n == "faster-patching")
        .unwrap();
    assert!(
        *patching >= 3.0,
        "faster-patching: the paired interval is only {patching:.2}× narrower"
    );
}

// ------------------------------------------------------------------ determinism

/// Runs `killchain COMMAND RANSOMWARE --trials TRIALS --threads T` for T = 1, 2 and 8 and
/// asserts that `files` are byte-identical. The trial counts span several chunks of 65,536
/// trials, the last one partial, so the threads really share the work.
fn thread_count_changes_no_byte(command: &str, trials: &str, files: &[&str]) {
    let runs: Vec<(TempDir, &str)> = ["1", "2", "8"]
        .into_iter()
        .map(|t| (TempDir::new().unwrap(), t))
        .collect();
    std::thread::scope(|scope| {
        for (out, threads) in &runs {
            scope.spawn(move || {
                killchain()
                    .args([
                        command,
                        RANSOMWARE,
                        "--trials",
                        trials,
                        "--threads",
                        *threads,
                    ])
                    .args(["--quiet", "--out"])
                    .arg(out.path())
                    .assert()
                    .code(0);
            });
        }
    });
    let first = read_files(&runs[0].0.path().join("ransomware-midsize"), files);
    for (out, threads) in &runs[1..] {
        let other = read_files(&out.path().join("ransomware-midsize"), files);
        for ((name, a), b) in files.iter().zip(&first).zip(&other) {
            assert!(a.len() > 100, "{name} is nearly empty");
            assert!(
                a == b,
                "{command}: {name} differs between 1 and {threads} threads"
            );
        }
    }
}

#[test]
fn compare_gives_the_same_bytes_on_any_thread_count() {
    thread_count_changes_no_byte(
        "compare",
        "150000",
        &[
            "phases.csv",
            "comparison.csv",
            "phase_deltas.csv",
            "controls.csv",
            "techniques.csv",
        ],
    );
}

/// `rank` plays one arm per control (18 on this scenario), so it runs fewer trials than the
/// `compare` check to keep the debug test fast; 70,000 trials are still two chunks.
#[test]
fn rank_gives_the_same_bytes_on_any_thread_count() {
    thread_count_changes_no_byte("rank", "70000", &["ranking.csv"]);
}

// ------------------------------------------------------------------ command line

/// The first line of a file, without its CRLF.
fn header_line(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let line = text.split("\r\n").next().unwrap().to_owned();
    assert!(
        !line.contains('\n'),
        "{}: lines must end in CRLF",
        path.display()
    );
    line
}

#[test]
fn compare_without_variants_is_a_usage_error() {
    refused(["compare", TINY]).stdout("").stderr(format!(
        "error: {TINY}: no [[variants]] to compare; add some, or give a second scenario \
             file to compare with\n"
    ));
}

#[test]
fn compare_of_two_files_with_different_ids_names_them() {
    let other = fixture("tiny-renamed");
    refused(["compare", TINY, &other])
        .stdout("")
        .stderr(format!(
            "error: {TINY} and {other}: the two scenarios must have the same technique and \
             control ids to be compared trial by trial; only in the first: technique exfil; \
             only in the second: control dlp, technique exfil-cloud\n"
        ));
}

#[test]
fn compare_of_two_files_writes_a_folder_named_after_both() {
    let out = TempDir::new().unwrap();
    let other = fixture("tiny-stronger-filter");
    killchain()
        .args(["compare", TINY, &other, "--trials", "4000", "--seed", "3"])
        .args(["--method", "monte-carlo"])
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            predicate::str::starts_with("Tiny — 4000 paired trials, seed 3;").and(
                predicate::str::ends_with(format!(
                    "wrote {}\n",
                    out.path().join("tiny-vs-tiny-stronger-filter").display()
                )),
            ),
        );
    assert_eq!(entries(out.path()), ["tiny-vs-tiny-stronger-filter"]);
    let dir = out.path().join("tiny-vs-tiny-stronger-filter");
    assert_eq!(
        entries(&dir),
        [
            "comparison.csv",
            "controls.csv",
            "phase_deltas.csv",
            "phases.csv",
            "techniques.csv"
        ],
        "temporary files left behind?"
    );
    let comparison = Csv::read(&dir.join("comparison.csv"));
    assert_eq!(
        comparison.column("variant"),
        ["baseline", "tiny-stronger-filter"]
    );
    assert_eq!(comparison.column("seed"), ["3", "3"]);
    assert_eq!(comparison.column("trials"), ["4000", "4000"]);
    let delta: f64 = comparison.get(1, "delta").parse().unwrap();
    assert!(
        delta < 0.0,
        "a stronger filter cannot help the adversary: {delta}"
    );
    assert_ne!(comparison.get(1, "changed_trials"), "0");
    assert_eq!(
        Csv::read(&dir.join("phase_deltas.csv")).column("variant"),
        vec!["tiny-stronger-filter"; N_PHASES]
    );
    assert_eq!(
        Csv::read(&dir.join("phases.csv")).rows.len(),
        2 * N_PHASES,
        "one block of seven phases per arm"
    );
}

/// The header README documents for `file` of a comparison: the first backquoted list starting
/// with `scenario,` after the first mention of `` `file` ``.
fn documented_header(readme: &str, file: &str) -> String {
    let at = readme
        .find(&format!("`{file}`"))
        .unwrap_or_else(|| panic!("README does not mention {file}"));
    let rest = &readme[at..];
    let start = rest
        .find("`scenario,")
        .unwrap_or_else(|| panic!("README gives no header for {file}"))
        + 1;
    let len = rest[start..].find('`').unwrap();
    rest[start..start + len].to_owned()
}

/// README's `phases.csv` header (the backquoted names in the first cell of each row of its
/// column table), with `variant` after `scenario` as README says `compare` writes it.
fn documented_phases_header_by_variant(readme: &str) -> String {
    documented_header_by_variant(readme, "phases.csv")
}

/// README's header of `file` (its column table), with `variant` after `scenario`, as `compare`
/// writes `phases.csv`, `controls.csv` and `techniques.csv`.
fn documented_header_by_variant(readme: &str, file: &str) -> String {
    let at = readme
        .find(&format!("**`{file}`**"))
        .unwrap_or_else(|| panic!("README documents {file}"));
    let mut names: Vec<&str> = readme[at..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .collect();
    assert_eq!(names.first(), Some(&"scenario"), "{names:?}");
    names.insert(1, "variant");
    names.join(",")
}

/// The column headers of every file `compare` and `rank` write are exactly those README
/// documents (its "Comparing investments" section, and its `phases.csv` table with `variant`
/// after `scenario`).
#[test]
fn compare_and_rank_write_the_documented_headers() {
    let out = TempDir::new().unwrap();
    let path = fixture("rank");
    for command in ["compare", "rank"] {
        killchain()
            .args([command, &path, "--trials", "2000", "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .code(0)
            .stdout("")
            .stderr("");
    }
    let dir = out.path().join("rank");
    assert_eq!(
        entries(&dir),
        [
            "comparison.csv",
            "controls.csv",
            "phase_deltas.csv",
            "phases.csv",
            "ranking.csv",
            "techniques.csv"
        ]
    );
    let readme = fs::read_to_string("README.md").unwrap();
    let mut expected: Vec<(&str, String)> = ["comparison.csv", "phase_deltas.csv", "ranking.csv"]
        .into_iter()
        .map(|f| (f, documented_header(&readme, f)))
        .collect();
    expected.push(("phases.csv", documented_phases_header_by_variant(&readme)));
    // What README says at the time of writing, so that a parsing slip cannot pass unnoticed.
    let prefixes = [
        "scenario,variant,seed,trials,annual_cost,completed,completion_rate,ci_low,ci_high,\
         delta,delta_ci_low,delta_ci_high,changed_trials",
        "scenario,variant,seed,trials,phase_index,phase,broken_share,baseline_broken_share,\
         delta,delta_ci_low,delta_ci_high",
        "scenario,control,action,enabled,annual_cost,delta,delta_ci_low,delta_ci_high,\
         delta_unadjusted_ci_low,delta_unadjusted_ci_high,delta_per_100k_cost",
        "scenario,variant,seed,trials,phase_index,phase,reached,broken,passed,break_rate,\
         ci_low,ci_high,broken_share,method",
    ];
    for ((file, header), prefix) in expected.iter().zip(prefixes) {
        assert!(
            header.starts_with(prefix),
            "README's {file} header: {header}"
        );
        assert_eq!(
            &header_line(&dir.join(file)),
            header,
            "{file} against README"
        );
    }
    for file in ["controls.csv", "techniques.csv"] {
        let header = documented_header_by_variant(&readme, file);
        assert!(header.starts_with("scenario,variant,"), "{header}");
        assert_eq!(
            header_line(&dir.join(file)),
            header,
            "{file} against README"
        );
    }
}

/// `annual_cost` is the sum of the enabled controls' costs: 0.00 when none has one.
#[test]
fn annual_cost_without_any_cost_is_zero() {
    let out = TempDir::new().unwrap();
    killchain()
        .args([
            "compare",
            &fixture("coverage"),
            "--trials",
            "100",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0);
    let comparison = Csv::read(&out.path().join("coverage").join("comparison.csv"));
    assert_eq!(comparison.column("annual_cost"), ["0.00", "0.00"]);
}

// ------------------------------------------------------------------ rank

/// `rank` switches each control alone: its delta must be the one `compare` reports for a
/// variant that switches that control alone (same trials, same seed), and the rows are sorted by
/// risk reduction (delta for enabled controls, −delta for disabled ones) per unit of cost, best
/// first, controls without a positive cost last by risk reduction.
#[test]
fn rank_matches_compare_of_single_switch_variants_and_sorts_by_value_for_money() {
    let path = fixture("rank");
    let out = TempDir::new().unwrap();
    for command in ["compare", "rank"] {
        killchain()
            .args([
                command, &path, "--trials", "30000", "--seed", "5", "--quiet",
            ])
            .args(["--method", "monte-carlo"])
            .arg("--out")
            .arg(out.path())
            .assert()
            .code(0)
            .stdout("")
            .stderr("");
    }
    let dir = out.path().join("rank");
    let ranking = Csv::read(&dir.join("ranking.csv"));
    let comparison = Csv::read(&dir.join("comparison.csv"));
    let s = load(&path);

    // One row per control.
    let mut ranked = ranking.column("control");
    ranked.sort();
    let mut ids: Vec<String> = s.controls.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    assert_eq!(ranked, ids);

    // Each control's delta and interval equal those of its single-switch variant.
    let variants = comparison.column("variant");
    for (row, id) in ranking.column("control").iter().enumerate() {
        let c = s.controls.iter().find(|c| &c.id == id).unwrap();
        let v = variants
            .iter()
            .position(|v| *v == format!("switch-{id}"))
            .unwrap_or_else(|| panic!("no variant switch-{id}"));
        // The fixture's variant switches exactly this control.
        let changed: Vec<&str> = s.variants[v - 1]
            .scenario
            .controls
            .iter()
            .zip(&s.controls)
            .filter(|(a, b)| a.enabled != b.enabled)
            .map(|(a, _)| a.id.as_str())
            .collect();
        assert_eq!(changed, [*id]);
        assert_eq!(ranking.get(row, "enabled"), c.enabled.to_string());
        assert_eq!(
            ranking.get(row, "annual_cost"),
            c.cost.map(|x| format!("{x:.2}")).unwrap_or_default()
        );
        // rank's unadjusted interval is compare's paired interval of the same switch.
        for (column, of_compare) in [
            ("delta", "delta"),
            ("delta_unadjusted_ci_low", "delta_ci_low"),
            ("delta_unadjusted_ci_high", "delta_ci_high"),
        ] {
            assert_eq!(
                ranking.get(row, column),
                comparison.get(v, of_compare),
                "{id}: {column} of rank and {of_compare} of compare's switch-{id}"
            );
        }
    }

    // The order, from the full-precision deltas of the same paired run.
    let arms = play(arms_of(&s), 5, 30_000);
    let full: Vec<(String, f64, bool, Option<f64>)> = s
        .controls
        .iter()
        .map(|c| {
            let arm = arms
                .iter()
                .find(|a| a.name == format!("switch-{}", c.id))
                .unwrap();
            let delta = arm.completion_table().difference().unwrap().0;
            let row = ranking.column("control").iter().position(|r| *r == c.id);
            assert_eq!(
                ranking.get(row.unwrap(), "delta"),
                format!("{delta:.6}"),
                "{}: rank and run_paired",
                c.id
            );
            // The simultaneous interval: Newcombe's at the Šidák level for every control,
            // wider than the unadjusted one.
            let (_, lo, hi) = arm
                .completion_table()
                .difference_at(sidak_z(s.controls.len()))
                .unwrap();
            let r = row.unwrap();
            assert_eq!(ranking.get(r, "delta_ci_low"), format!("{lo:.6}"));
            assert_eq!(ranking.get(r, "delta_ci_high"), format!("{hi:.6}"));
            let num = |col: &str| ranking.get(r, col).parse::<f64>().unwrap();
            assert!(
                num("delta_ci_low") < num("delta_unadjusted_ci_low"),
                "{}",
                c.id
            );
            assert!(
                num("delta_ci_high") > num("delta_unadjusted_ci_high"),
                "{}",
                c.id
            );
            (c.id.clone(), delta, c.enabled, c.cost)
        })
        .collect();
    let mut expected = full.clone();
    let key = |(id, delta, enabled, cost): &(String, f64, bool, Option<f64>)| {
        let reduction = if *enabled { *delta } else { -*delta };
        match cost.filter(|&c| c > 0.0) {
            Some(c) => (0, -reduction / c, id.clone()),
            None => (1, -reduction, id.clone()),
        }
    };
    expected.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ka.2.cmp(&kb.2))
    });
    let expected_ids: Vec<String> = expected.into_iter().map(|e| e.0).collect();
    assert_eq!(ranking.column("control"), expected_ids);
    // The fixture exercises both groups: costed controls first, then zero and missing cost.
    assert_eq!(
        ranking.column("annual_cost")[4..],
        ["".to_owned(), "0.00".to_owned()],
        "egress (no cost) and builtin-av (cost 0) come last, by risk reduction"
    );
    for row in 0..ranking.rows.len() {
        let cost = ranking.get(row, "annual_cost");
        let per_100k = ranking.get(row, "delta_per_100k_cost");
        match cost.parse::<f64>().ok().filter(|&c| c > 0.0) {
            Some(c) => {
                let delta: f64 = ranking.get(row, "delta").parse().unwrap();
                let got: f64 = per_100k.parse().unwrap();
                assert!((got - delta * 100_000.0 / c).abs() < 1e-5, "row {row}");
            }
            None => assert_eq!(per_100k, "", "row {row}"),
        }
    }
}

/// The baseline row, and a variant that plays as the baseline does (a changed cost only), have
/// the change 0 with the interval [0, 0] in every column, never a negative zero.
#[test]
fn an_arm_that_plays_as_the_baseline_has_a_zero_interval() {
    let out = TempDir::new().unwrap();
    let source = fs::read_to_string(RANSOMWARE).unwrap();
    let first_control = source.find("[[controls]]").unwrap();
    let id_at = source[first_control..].find("id = \"").unwrap() + first_control + 6;
    let id: String = source[id_at..].chars().take_while(|&c| c != '"').collect();
    let path = out.path().join("same.toml");
    fs::write(
        &path,
        format!(
            "{source}\n[[variants]]\nname = \"same-but-dearer\"\nset = {{ \"{id}.cost\" = 123456 }}\n"
        ),
    )
    .unwrap();
    killchain()
        .args([
            "compare",
            path.to_str().unwrap(),
            "--trials",
            "20000",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0);
    let dir = out.path().join("same");
    let comparison = Csv::read(&dir.join("comparison.csv"));
    let variants = comparison.column("variant");
    for name in [BASELINE, "same-but-dearer"] {
        let row = variants.iter().position(|v| *v == name).unwrap();
        for column in ["delta", "delta_ci_low", "delta_ci_high"] {
            assert_eq!(comparison.get(row, column), "0.000000", "{name}: {column}");
        }
    }
    let deltas = Csv::read(&dir.join("phase_deltas.csv"));
    for (row, variant) in deltas.column("variant").iter().enumerate() {
        if *variant == "same-but-dearer" {
            for column in ["delta", "delta_ci_low", "delta_ci_high"] {
                assert_eq!(deltas.get(row, column), "0.000000", "{column}");
            }
        }
    }
    for file in ["comparison.csv", "phase_deltas.csv"] {
        let text = fs::read_to_string(dir.join(file)).unwrap();
        for cell in text.split([',', '\n', '\r']) {
            let rest = cell.trim_start_matches('-');
            assert!(
                rest == cell || rest.bytes().any(|b| (b'1'..=b'9').contains(&b)),
                "{file}: negative zero {cell:?}"
            );
        }
    }
}

// ------------------------------------------------------------------ the default method

/// `killchain ARGS --out DIR` (DIR a new folder), successfully: its standard output with DIR
/// written as `OUT`, and the folder.
fn played(args: &[&str]) -> (String, TempDir) {
    let out = TempDir::new().unwrap();
    let run = killchain()
        .args(args)
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stderr("");
    let text = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    let text = text.replace(out.path().to_str().unwrap(), "OUT");
    (text, out)
}

/// Every file of `dir`'s one result folder, by name.
fn folder_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let [stem] = &entries(dir)[..] else {
        panic!("one result folder in {}", dir.display())
    };
    let folder = dir.join(stem);
    entries(&folder)
        .into_iter()
        .map(|name| {
            let bytes = fs::read(folder.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Without `--method`, `compare` and `rank` evaluate exactly what exact evaluation covers:
/// every file and the terminal are those of `--method exact`, byte for byte. With `[loss]`,
/// `compare` adds one line: Monte Carlo gives what exactness does not (the loss percentiles
/// and the exceedance curve).
#[test]
fn the_default_is_exact_where_every_arm_can_be_enumerated() {
    for (args, loss) in [
        (vec!["compare", VARIANTS], false),
        (vec!["rank", VARIANTS], false),
        (
            vec!["compare", TINY, &fixture("tiny-stronger-filter")],
            false,
        ),
        (vec!["compare", RANSOMWARE, "--report"], true),
        (vec!["rank", RANSOMWARE], false),
    ] {
        let (auto_text, auto) = played(&args);
        let exact_args: Vec<&str> = args.iter().copied().chain(["--method", "exact"]).collect();
        let (exact_text, exact) = played(&exact_args);
        assert_eq!(
            folder_files(auto.path()),
            folder_files(exact.path()),
            "{args:?}: the files of the default and of --method exact differ"
        );
        let hint = "expected annual losses are exact; `--method monte-carlo` also gives the loss percentiles and the whole exceedance curve\n";
        let expected = if loss {
            format!("{hint}{exact_text}")
        } else {
            exact_text.clone()
        };
        assert_eq!(auto_text, expected, "{args:?}");
        assert!(exact_text.contains("exact"), "{exact_text}");
        let files = folder_files(auto.path());
        let csv = files
            .iter()
            .find(|(n, _)| n == "comparison.csv" || n == "ranking.csv")
            .unwrap();
        let text = String::from_utf8_lossy(&csv.1);
        for line in text.lines().skip(1) {
            assert!(line.ends_with(",exact"), "{args:?}: {line}");
        }
        if loss {
            let page = &files.iter().find(|(n, _)| n == "report.html").unwrap().1;
            assert!(String::from_utf8_lossy(page).contains("not computed by the exact method"));
        }
    }
}

/// A scenario too large to enumerate (21 viable delivery techniques, 21 attempts: 2^21 − 1 sets
/// of tried techniques, past the limit of 2^20): `--method exact` refuses it, and the default
/// plays paired Monte Carlo trials instead, says why in one line, and writes exactly what
/// `--method monte-carlo` writes.
#[test]
fn the_default_falls_back_to_monte_carlo_past_the_exact_limit_and_says_why() {
    let path = fixture("too-large");
    let s = load(&path);
    let err = exact::evaluate(&s).unwrap_err();
    assert!(err.states > exact::MAX_STATES, "{err:?}");
    for command in ["compare", "rank"] {
        refused([command, path.as_str(), "--method", "exact"])
            .code(2)
            .stderr(predicate::str::contains(
                "phase \"delivery\" would need 2097151 sets of tried techniques",
            ));
        let common = [command, path.as_str(), "--trials", "3000", "--seed", "4"];
        let (auto_text, auto) = played(&common);
        let mc: Vec<&str> = common
            .iter()
            .copied()
            .chain(["--method", "monte-carlo"])
            .collect();
        let (mc_text, mc) = played(&mc);
        assert_eq!(
            folder_files(auto.path()),
            folder_files(mc.path()),
            "{command}"
        );
        let why = "exact evaluation is out of reach (baseline: phase \"delivery\" would need 2097151 sets of tried techniques, more than 1048576); simulated 3000 paired trials instead\n";
        assert_eq!(auto_text, format!("{why}{mc_text}"), "{command}");
        assert!(mc_text.contains("3000 paired trials, seed 4"), "{mc_text}");
        let name = if command == "compare" {
            "comparison.csv"
        } else {
            "ranking.csv"
        };
        let csv = Csv::read(&auto.path().join("too-large").join(name));
        assert!(csv.column("method").iter().all(|m| *m == "monte-carlo"));
        assert!(csv.column("seed").iter().all(|m| *m == "4"));
        // Quiet: nothing at all on the terminal.
        let quiet: Vec<&str> = common.iter().copied().chain(["--quiet"]).collect();
        assert_eq!(played(&quiet).0, "");
    }
}
