//! Memory that must not grow with the square of the controls or with every output at once.
//!
//! The holes: `rank` held a whole scenario, a compiled plan and full counts for every one-control
//! switch at once (1,000 / 2,000 / 4,000 controls: 0.42 / 1.66 / 6.1 GB), and `compare` held the
//! engine's per-arm accumulators (a 3,776-bin annual-loss histogram per arm, per worker and per
//! reduction) for every variant at once. Both now play their arms 64 at a time.
//!
//! Each test runs the binary under a data-segment limit (`ulimit -d`, which counts the heap and
//! every private writable mapping): an allocation past it fails and the process aborts, so a run
//! that needs more memory than the limit cannot pass, whatever the timing.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::generate::{ACTIONS, PHASES};

/// A scenario with three techniques per phase and `controls` controls (one phase each, every
/// other one enabled, each with a cost), and `variants` variants each switching one control.
fn scenario(controls: usize, variants: usize, loss: bool) -> String {
    let mut s = String::from(
        "[scenario]\nname = \"many\"\ntrials = 1000\nseed = 7\n\n[adversary]\nmax_attempts = 2\n\n",
    );
    for (p, phase) in PHASES.iter().enumerate() {
        for k in 0..3 {
            let _ = write!(
                s,
                "[[adversary.techniques]]\nid = \"t{p}-{k}\"\nphase = \"{phase}\"\nsuccess = 0.{}\n\n",
                9 - k
            );
        }
    }
    if loss {
        s += "[loss]\nattacks_per_year = 12\nimpact = { low = 100000, high = 2000000 }\n\n";
    }
    for i in 0..controls {
        let _ = write!(
            s,
            "[[controls]]\nid = \"c{i}\"\naction = \"{}\"\nphases = [\"{}\"]\neffectiveness = 0.{}\nenabled = {}\ncost = {}\n\n",
            ACTIONS[i % 6],
            PHASES[i % 7],
            i % 9 + 1,
            i % 2 == 1,
            1000 + i
        );
    }
    for v in 0..variants {
        let c = v % controls;
        let key = if c % 2 == 1 { "disable" } else { "enable" };
        let _ = write!(s, "[[variants]]\nname = \"v{v}\"\n{key} = [\"c{c}\"]\n\n");
    }
    s
}

/// Runs killchain with `args` in `dir` with its data segment limited to `limit_mib` MiB.
fn under_data_limit(limit_mib: u64, dir: &TempDir, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -d "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg((limit_mib * 1024).to_string())
        .arg(env!("CARGO_BIN_EXE_killchain"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap()
}

/// `killchain <command> many.toml --method monte-carlo` on 1,000 trials and one thread into
/// `out`, quietly, with `extra` arguments, under a data-segment limit of `limit_mib` MiB.
fn many_under_data_limit(limit_mib: u64, dir: &TempDir, command: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        command,
        "many.toml",
        "--method",
        "monte-carlo",
        "--trials",
        "1000",
        "--threads",
        "1",
        "--out",
        "out",
        "-q",
    ];
    args.extend_from_slice(extra);
    under_data_limit(limit_mib, dir, &args)
}

/// `out` succeeded; its status and stderr otherwise.
fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The limit is real: the same rank under 4 MiB (less than it needs, linear or not) fails.
#[test]
fn the_data_limit_stops_a_run_that_needs_more() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("many.toml"), scenario(1000, 0, false)).unwrap();
    let out = many_under_data_limit(4, &dir, "rank", &[]);
    assert!(!out.status.success(), "rank ran in 4 MiB");
    assert!(!dir.path().join("out/many/ranking.csv").exists());
}

#[test]
fn rank_of_a_thousand_controls_fits_in_96_mib() {
    // Quadratic, this run needed about 400 MB; linear, about 15 MB.
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("many.toml"), scenario(1000, 0, false)).unwrap();
    let out = many_under_data_limit(96, &dir, "rank", &[]);
    assert_succeeded(&out);
    let ranking = fs::read_to_string(dir.path().join("out/many/ranking.csv")).unwrap();
    let mut ids: Vec<&str> = ranking
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    ids.sort_unstable();
    let mut want: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
    want.sort_unstable();
    assert_eq!(ids, want);
}

#[test]
fn compare_of_a_thousand_variants_with_loss_fits_in_96_mib() {
    // 1,000 variants of 100 controls with [loss] (a 59 KB file): 151 MB before, about 55 MB now.
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("many.toml"), scenario(100, 1000, true)).unwrap();
    let out = many_under_data_limit(96, &dir, "compare", &[]);
    assert_succeeded(&out);
    let comparison = fs::read_to_string(dir.path().join("out/many/comparison.csv")).unwrap();
    assert_eq!(
        comparison.lines().count(),
        1 + 1001,
        "header, baseline, 1,000 variants"
    );
}

#[test]
fn compare_of_a_thousand_variants_with_its_page_fits_in_128_mib() {
    // The page is rendered from the CSV files alone: the scenarios (every variant a complete one)
    // and the arms' figures are dropped first. Before, 176 MB; now about 78 MB.
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("many.toml"), scenario(100, 1000, true)).unwrap();
    let out = many_under_data_limit(128, &dir, "compare", &["--report"]);
    assert_succeeded(&out);
    let page = fs::read_to_string(dir.path().join("out/many/report.html")).unwrap();
    assert!(page.contains("v999"), "the last variant is on the page");
}
