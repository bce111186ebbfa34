//! Output snapshots: every command's CSV and JSON files (and its terminal text) for the shipped,
//! benchmark and test scenarios, compared byte for byte with `tests/data/snapshots/`.
//!
//! A change that alters an output on purpose re-blesses the files with
//! `KILLCHAIN_BLESS=1 cargo test snapshot` and says so in its commit; the diff of
//! `tests/data/snapshots/` then shows every byte that moved. run.json's wall time, rate and
//! thread count describe the machine, not the results, and are left out; the output folder's
//! path in the terminal text is written as `OUT`. A file over 256 KiB is pinned by its SHA-256.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::support::killchain;

/// Trials of every Monte Carlo case: enough that every phase, control and loss line is
/// non-trivial on the shipped scenarios, few enough for a debug build.
const TRIALS: &str = "20000";

/// Scenario files without `[[variants]]`-only meaning: every one is run and evaluated exactly.
const SCENARIOS: &[&str] = &[
    "scenarios/industrial-state-actor.toml",
    "scenarios/midsize-landscape.toml",
    "scenarios/ransomware-midsize.toml",
    "scenarios/saas-credential-phishing.toml",
    "benches/data/reference.toml",
    "benches/data/optimize-16.toml",
    "benches/data/optimize-16-loss.toml",
    "benches/data/landscape-16.toml",
    "tests/data/valid/tiny.toml",
    "tests/data/valid/loss.toml",
    "tests/data/valid/variants.toml",
    "tests/data/valid/weight-fact.toml",
    "tests/data/exact/all-actions.toml",
    "tests/data/exact/attempts-exceed.toml",
    "tests/data/exact/hand-actions.toml",
    "tests/data/exact/hand-deny.toml",
    "tests/data/exact/no-viable.toml",
    "tests/data/exact/paths.toml",
    "tests/data/landscape/two-crews.toml",
    "tests/data/compare/coverage.toml",
    "tests/data/compare/rank.toml",
    "tests/data/compare/same-as-baseline.toml",
    "tests/data/compare/tiny-renamed.toml",
    "tests/data/compare/tiny-stronger-filter.toml",
    "tests/data/optimize/small.toml",
    "tests/data/optimize/small-loss.toml",
    "tests/data/optimize/seventeen.toml",
    "tests/data/optimize/paths-with-costs.toml",
    "tests/data/formula/formula.toml",
];

/// Scenario files with `[[variants]]`.
const WITH_VARIANTS: &[&str] = &[
    "scenarios/ransomware-midsize.toml",
    "scenarios/midsize-landscape.toml",
    "tests/data/landscape/two-crews.toml",
    "benches/data/optimize-16.toml",
    "benches/data/optimize-16-loss.toml",
    "tests/data/valid/loss.toml",
    "tests/data/valid/variants.toml",
    "tests/data/valid/weight-fact.toml",
    "tests/data/exact/paths.toml",
    "tests/data/compare/coverage.toml",
    "tests/data/compare/rank.toml",
    "tests/data/compare/same-as-baseline.toml",
    "tests/data/optimize/seventeen.toml",
    "tests/data/formula/formula.toml",
];

/// Pairs of files compared with each other (the first is the baseline).
const PAIRS: &[(&str, &str)] = &[
    (
        "tests/data/valid/tiny.toml",
        "tests/data/compare/tiny-stronger-filter.toml",
    ),
    (
        "tests/data/valid/tiny.toml",
        "tests/data/compare/tiny-renamed.toml",
    ),
];

/// Scenarios ranked control by control.
const RANKED: &[&str] = &[
    "scenarios/industrial-state-actor.toml",
    "scenarios/midsize-landscape.toml",
    "tests/data/landscape/two-crews.toml",
    "scenarios/ransomware-midsize.toml",
    "scenarios/saas-credential-phishing.toml",
    "benches/data/reference.toml",
    "tests/data/compare/rank.toml",
    "tests/data/valid/loss.toml",
];

/// Scenarios compared and ranked under the default method (no `--method`): exact for the
/// shipped ones, Monte Carlo for the one too large to enumerate.
const DEFAULT_METHOD: &[&str] = &[
    "scenarios/industrial-state-actor.toml",
    "scenarios/ransomware-midsize.toml",
    "scenarios/saas-credential-phishing.toml",
    "tests/data/compare/too-large.toml",
];

/// Optimisations: scenario, budget, search.
const OPTIMIZED: &[(&str, &str, &str)] = &[
    ("scenarios/ransomware-midsize.toml", "150000", "auto"),
    ("scenarios/ransomware-midsize.toml", "150000", "heuristic"),
    ("benches/data/optimize-16.toml", "250000", "auto"),
    ("benches/data/optimize-16-loss.toml", "250000", "auto"),
    ("tests/data/optimize/small.toml", "50", "auto"),
    ("tests/data/optimize/small-loss.toml", "100000", "auto"),
    ("tests/data/optimize/seventeen.toml", "400", "auto"),
];

/// Optimisations judged exactly only (threat landscapes, attack paths): scenario, budget,
/// search.
const EXACT_ONLY_OPTIMIZED: &[(&str, &str, &str)] = &[
    ("scenarios/midsize-landscape.toml", "250000", "auto"),
    ("benches/data/landscape-16.toml", "250000", "auto"),
    ("tests/data/landscape/two-crews.toml", "60000", "auto"),
    ("tests/data/optimize/paths-with-costs.toml", "40000", "auto"),
];

/// The stem a scenario's results are written under.
fn stem(path: &str) -> &str {
    Path::new(path).file_stem().unwrap().to_str().unwrap()
}

/// Runs `killchain ARGS --out TMP` and returns every file it wrote (the CSV and JSON ones, and
/// report.html where asked for) and its terminal text, by path relative to TMP.
fn outputs(args: &[&str]) -> BTreeMap<PathBuf, Vec<u8>> {
    let out = TempDir::new().unwrap();
    let mut cmd = killchain();
    cmd.args(args);
    if args[0] != "check" {
        cmd.arg("--out").arg(out.path());
    }
    let run = cmd.output().unwrap();
    let mut files = BTreeMap::new();
    collect(out.path(), out.path(), &mut files);
    let dir = out.path().to_str().unwrap();
    let mut text = format!("exit status: {:?}\n", run.status.code());
    text += &String::from_utf8_lossy(&run.stdout).replace(dir, "OUT");
    text += &String::from_utf8_lossy(&run.stderr).replace(dir, "OUT");
    files.insert(PathBuf::from("terminal.txt"), text.into_bytes());
    files
}

/// Every snapshot file under `dir`, with run.json's machine fields left out.
fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        let kept = name.ends_with(".csv") || name.ends_with(".json") || name == "report.html";
        if !kept {
            continue;
        }
        let mut bytes = fs::read(&path).unwrap();
        if name == "run.json" || name == "tally.json" {
            bytes = without_machine_fields(&bytes);
        }
        let relative = path.strip_prefix(root).unwrap().to_path_buf();
        if bytes.len() > LARGE {
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let digest = format!("{hex}  {} bytes\n", bytes.len());
            files.insert(
                relative.with_file_name(format!("{name}.sha256")),
                digest.into_bytes(),
            );
        } else {
            files.insert(relative, bytes);
        }
    }
}

/// Files above this size (the frontiers of 15 and 16 candidates, 32,768 and 65,536 rows) are
/// pinned by their SHA-256 and length rather than stored whole.
const LARGE: usize = 256 * 1024;

/// A pretty-printed JSON file without the lines of the fields that describe the machine (and
/// tally.json's digest, which covers them; the merge of the shards checks it).
fn without_machine_fields(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let machine = [
        "\"threads\":",
        "\"wall_time_seconds\":",
        "\"trials_per_second\":",
        "\"content_sha256\":",
    ];
    let kept: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|line| !machine.iter().any(|m| line.trim_start().starts_with(m)))
        .collect();
    kept.concat().into_bytes()
}

/// Compares `files` with `tests/data/snapshots/CASE/` (or writes them there when
/// `KILLCHAIN_BLESS` is set); returns one line per difference.
fn compare(case: &str, files: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/snapshots")
        .join(case);
    if std::env::var_os("KILLCHAIN_BLESS").is_some() {
        let _ = fs::remove_dir_all(&dir);
        for (path, bytes) in files {
            let to = dir.join(path);
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::write(to, bytes).unwrap();
        }
        return Vec::new();
    }
    let mut expected = BTreeMap::new();
    if dir.is_dir() {
        collect_all(&dir, &dir, &mut expected);
    }
    let mut problems = Vec::new();
    for (path, want) in &expected {
        match files.get(path) {
            None => problems.push(format!("{case}: {} was not written", path.display())),
            Some(got) if got != want => problems.push(format!(
                "{case}: {} differs: {}",
                path.display(),
                first_difference(want, got)
            )),
            Some(_) => {}
        }
    }
    for path in files.keys().filter(|p| !expected.contains_key(*p)) {
        problems.push(format!("{case}: {} is new (no snapshot)", path.display()));
    }
    problems
}

/// Every file under `dir`, as stored.
fn collect_all(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_all(root, &path, files);
        } else {
            let bytes = fs::read(&path).unwrap();
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
        }
    }
}

/// The first line that differs, expected then got.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let (want, got) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    let mut lines = want.lines().zip(got.lines()).enumerate();
    match lines.find(|(_, (w, g))| w != g) {
        Some((i, (w, g))) => format!("line {}: expected {w:?}, got {g:?}", i + 1),
        None => format!(
            "{} lines expected, {} written",
            want.lines().count(),
            got.lines().count()
        ),
    }
}

/// Plays every case and fails with the list of all differences.
fn check(cases: Vec<(String, Vec<String>)>) {
    let mut problems = Vec::new();
    for (case, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        problems.extend(compare(case, &outputs(&args)));
    }
    assert!(
        problems.is_empty(),
        "{} snapshot differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `args` with the Navigator layer, and for the shipped ransomware scenario report.html too.
fn with_exports(mut args: Vec<String>, scenario: &str) -> Vec<String> {
    args.push("--navigator".into());
    if scenario == "scenarios/ransomware-midsize.toml" {
        args.push("--report".into());
    }
    args
}

#[test]
fn snapshot_run() {
    let cases = SCENARIOS
        .iter()
        .map(|s| {
            let args = strings(&["run", s, "--trials", TRIALS, "--threads", "2"]);
            (format!("run/{}", stem(s)), with_exports(args, s))
        })
        .collect();
    check(cases);
}

#[test]
fn snapshot_exact() {
    let cases = SCENARIOS
        .iter()
        .map(|s| {
            (
                format!("exact/{}", stem(s)),
                strings(&["exact", s, "--trials", TRIALS, "--navigator"]),
            )
        })
        .collect();
    check(cases);
}

#[test]
fn snapshot_check() {
    let cases = [
        "scenarios/saas-credential-phishing.toml",
        "tests/data/valid/loss.toml",
        "tests/data/exact/all-actions.toml",
        "tests/data/landscape/two-crews.toml",
    ]
    .iter()
    .map(|s| {
        (
            format!("check/{}", stem(s)),
            strings(&["check", s, "--trials", TRIALS, "--threads", "2"]),
        )
    })
    .collect();
    check(cases);
}

fn compare_cases(method: &str) -> Vec<(String, Vec<String>)> {
    let mut cases: Vec<(String, Vec<String>)> = WITH_VARIANTS
        .iter()
        .map(|s| {
            let args = strings(&[
                "compare",
                s,
                "--method",
                method,
                "--trials",
                TRIALS,
                "--threads",
                "2",
            ]);
            (
                format!("compare-{method}/{}", stem(s)),
                with_exports(args, s),
            )
        })
        .collect();
    for (a, b) in PAIRS {
        let args = strings(&[
            "compare",
            a,
            b,
            "--method",
            method,
            "--trials",
            TRIALS,
            "--threads",
            "2",
        ]);
        cases.push((format!("compare-{method}/{}-vs-{}", stem(a), stem(b)), args));
    }
    cases
}

#[test]
fn snapshot_compare() {
    check(compare_cases("monte-carlo"));
}

#[test]
fn snapshot_compare_exact() {
    check(compare_cases("exact"));
}

#[test]
fn snapshot_rank() {
    let mut cases = Vec::new();
    for method in ["monte-carlo", "exact"] {
        for s in RANKED {
            let args = strings(&[
                "rank",
                s,
                "--method",
                method,
                "--trials",
                TRIALS,
                "--threads",
                "2",
            ]);
            cases.push((format!("rank-{method}/{}", stem(s)), args));
        }
    }
    check(cases);
}

#[test]
fn snapshot_compare_and_rank_by_default() {
    let mut cases = Vec::new();
    for command in ["compare", "rank"] {
        for s in DEFAULT_METHOD {
            let args = strings(&[command, s, "--trials", TRIALS, "--threads", "2"]);
            cases.push((format!("{command}-auto/{}", stem(s)), args));
        }
    }
    check(cases);
}

#[test]
fn snapshot_optimize() {
    // By Monte Carlo (their folders named by the search alone, as before the exact method), then
    // by the default method, which is exact for every one of these scenarios.
    let monte_carlo = OPTIMIZED.iter().map(|&(s, budget, search)| {
        let dir = format!("optimize-{search}/{}", stem(s));
        (s, budget, search, Some("monte-carlo"), dir)
    });
    let exact = (OPTIMIZED.iter().chain(EXACT_ONLY_OPTIMIZED)).map(|&(s, budget, search)| {
        let dir = format!("optimize-exact-{search}/{}", stem(s));
        (s, budget, search, None, dir)
    });
    let cases = monte_carlo
        .chain(exact)
        .map(|(s, budget, search, method, dir)| {
            let mut args = strings(&[
                "optimize",
                s,
                "--budget",
                budget,
                "--search",
                search,
                "--trials",
                "5000",
                "--threads",
                "2",
            ]);
            if let Some(method) = method {
                args.extend(strings(&["--method", method]));
            }
            // The page of a small search (with money), and of the shipped one by its digest.
            if search == "auto" && (s.ends_with("small-loss.toml") || s.starts_with("scenarios/")) {
                args.push("--report".into());
            }
            (dir, args)
        })
        .collect();
    check(cases);
}

/// Three shards of a run, then their merge: each shard's files and the merged folder.
#[test]
fn snapshot_shards() {
    let mut problems = Vec::new();
    for s in [
        "scenarios/ransomware-midsize.toml",
        "tests/data/valid/tiny.toml",
        "tests/data/valid/loss.toml",
    ] {
        let out = TempDir::new().unwrap();
        let mut shards = Vec::new();
        for k in 1..=3 {
            let dir = out.path().join(format!("shard-{k}"));
            killchain()
                .args(["run", s, "--trials", TRIALS, "--threads", "2", "--quiet"])
                .args(["--shard", &format!("{k}/3")])
                .arg("--out")
                .arg(&dir)
                .assert()
                .success();
            let mut files = BTreeMap::new();
            collect(&dir, &dir, &mut files);
            problems.extend(compare(&format!("shards/{}/shard-{k}", stem(s)), &files));
            shards.push(dir.join(stem(s)).to_str().unwrap().to_string());
        }
        let mut args = vec!["merge"];
        args.extend(shards.iter().map(String::as_str));
        let merged = outputs(&args);
        let merged = merged
            .into_iter()
            .map(|(p, b)| {
                (
                    p,
                    String::from_utf8_lossy(&b)
                        .replace(out.path().to_str().unwrap(), "TMP")
                        .into_bytes(),
                )
            })
            .collect();
        problems.extend(compare(&format!("shards/{}/merged", stem(s)), &merged));
    }
    assert!(
        problems.is_empty(),
        "{} snapshot differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
