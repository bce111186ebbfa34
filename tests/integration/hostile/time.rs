//! Time and scale: interruption within a bounded time at any trial count, shard cuts, thread counts.

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::AtomicUsize;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use killchain::engine::Plan;
use killchain::sim::schedule::Shard;
use killchain::sim::{Schedule, Session};

use crate::support::{killchain, killchain_process, load, manifest};

/// No [loss]: phase figures only.
const NO_LOSS: &str = "tests/data/valid/tiny.toml";
/// With [loss] (6 attacks per year).
const LOSS: &str = "tests/data/valid/loss.toml";

/// How long a stopped command may take to exit, in the debug build on a busy machine.
const PROMPT: Duration = Duration::from_secs(4);

/// Whether `pid` has a handler for SIGINT and SIGTERM installed (`SigCgt` in /proc).
fn catches_signals(pid: u32) -> bool {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let caught = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or(0);
    let bit = |s: Signal| 1u64 << (s as i32 - 1);
    caught & bit(Signal::SIGINT) != 0 && caught & bit(Signal::SIGTERM) != 0
}

/// Starts `killchain run SCENARIO --trials TRIALS EXTRA… --out OUT`.
fn start(scenario: &str, trials: &str, extra: &[&str], out: &Path) -> Child {
    killchain_process()
        .args(["run", scenario, "--trials", trials, "--quiet"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` to `child` `after` its start (once its handlers are in place, which must
/// take well under a second), and asserts that it stops within [`PROMPT`] with the documented
/// status and message, leaving no results in `out`.
fn stops_promptly(mut child: Child, signal: Signal, after: Duration, out: &Path, what: &str) {
    let started = Instant::now();
    sleep(after);
    while !catches_signals(child.id()) {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: no handler for SIGINT and SIGTERM after 1 s"
        );
        sleep(Duration::from_millis(1));
    }
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), signal).unwrap();
    let signalled = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if signalled.elapsed() > PROMPT {
            let _ = child.kill();
            panic!("{what}: still running {PROMPT:?} after {signal}");
        }
        sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let status = 128 + signal as i32;
    assert_eq!(output.status.code(), Some(status), "{what}: {stderr}");
    let stem = Path::new(what.split(' ').next().unwrap())
        .file_stem()
        .unwrap()
        .to_owned();
    let stem = Path::new(&stem);
    assert_eq!(
        stderr,
        format!(
            "error: interrupted; previous results in {} are unchanged\n",
            out.join(stem).display()
        ),
        "{what}"
    );
    assert!(
        !out.join(stem).join("phases.csv").exists(),
        "{what}: wrote results into {}",
        out.display()
    );
}

#[test]
fn a_signal_stops_a_run_of_any_size_within_seconds() {
    // 10^15 and 2^64 − 1 trials without [loss]: the run used to visit every chunk after the stop.
    // With [loss], the largest run allowed at 6 attacks per year, and the last shard of it,
    // whose start lies 2.6·10^10 trials (4.3·10^9 years) into the walk.
    let largest = (6u64 << 32).to_string();
    let cases: [(&str, &str, &[&str], Signal); 6] = [
        (NO_LOSS, "1000000000000000", &[], Signal::SIGINT),
        (NO_LOSS, "18446744073709551615", &[], Signal::SIGTERM),
        (
            NO_LOSS,
            "18446744073709551615",
            &["--shard", "3/3"],
            Signal::SIGINT,
        ),
        (LOSS, &largest, &[], Signal::SIGTERM),
        (LOSS, &largest, &["--shard", "7/7"], Signal::SIGINT),
        (LOSS, &largest, &["--shard", "4/7"], Signal::SIGTERM),
    ];
    for (scenario, trials, extra, signal) in cases {
        let root = TempDir::new().unwrap();
        let out = root.path().join("out");
        let what = format!("{scenario} --trials {trials} {extra:?}");
        let child = start(scenario, trials, extra, &out);
        stops_promptly(child, signal, Duration::from_millis(300), &out, &what);
    }
}

#[test]
fn a_signal_right_after_the_start_is_answered_with_the_message() {
    // A signal within the first milliseconds, before the scenario is read or a chunk played,
    // used to end the process silently (no handler yet).
    for (ms, signal) in [
        (0, Signal::SIGINT),
        (5, Signal::SIGTERM),
        (15, Signal::SIGINT),
    ] {
        for scenario in [NO_LOSS, LOSS] {
            let root = TempDir::new().unwrap();
            let out = root.path().join("out");
            let what = format!("{scenario} after {ms} ms");
            let child = start(scenario, "1000000000", &[], &out);
            stops_promptly(child, signal, Duration::from_millis(ms), &out, &what);
        }
    }
}

#[test]
fn trials_beyond_the_limit_with_loss_are_refused_at_once() {
    // 10^15 and 2^64 − 1 trials with [loss] used to walk the years forever before anything else.
    for trials in ["1000000000000000", "18446744073709551615", "25769803777"] {
        let started = Instant::now();
        let out = TempDir::new().unwrap();
        let assert = killchain()
            .args(["run", LOSS, "--trials", trials, "--out"])
            .arg(out.path())
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert_eq!(
            stderr,
            format!(
                "error: {LOSS}: {trials} trials with [loss] at 6 attacks per year are too many: a run with [loss] plays at most 1099511627776 (2^40) trials and about 4294967296 (2^32) simulated years (trials ÷ attacks_per_year), so at most 25769803776 trials here; ask for fewer trials, or remove [loss] for phase figures only\n"
            )
        );
        assert!(
            started.elapsed() < PROMPT,
            "{trials}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn merge_refuses_a_tally_claiming_endless_years_at_once() {
    // A crafted tally.json with trials = 2^64 − 1 and [loss] made merge walk the years forever.
    let root = TempDir::new().unwrap();
    let dirs: Vec<_> = (1..=2)
        .map(|k| {
            let out = root.path().join(format!("shard-{k}"));
            killchain()
                .args(["run", LOSS, "--trials", "400", "--quiet", "--shard"])
                .arg(format!("{k}/2"))
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            out.join("loss")
        })
        .collect();
    for dir in &dirs {
        let path = dir.join("tally.json");
        let mut t: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        t["trials"] = serde_json::json!(u64::MAX);
        fs::write(&path, serde_json::to_vec(&t).unwrap()).unwrap();
    }
    let started = Instant::now();
    let out = TempDir::new().unwrap();
    killchain()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2);
    assert!(
        started.elapsed() < PROMPT,
        "merge took {:?}",
        started.elapsed()
    );
    assert!(fs::read_dir(out.path()).unwrap().next().is_none());
}

#[test]
fn the_last_shard_of_the_largest_run_plays_every_one_of_its_trials() {
    // `--trials 2^64−1 --shard 10^13/10^13`: the last chunk's end wrapped and 9,667 trials of the
    // shard were silently dropped.
    let s = load(NO_LOSS);
    let n = 10_000_000_000_000;
    let shard = Shard::new(n, n).unwrap();
    let schedule = Schedule::new(None, 3, u64::MAX, Some(shard));
    let range = schedule.range();
    assert_eq!(range.end, u64::MAX);
    assert_eq!(range.end - range.start, 1_844_675);
    let stop = AtomicUsize::new(0);
    let session = Session::new(Some(2), &stop).unwrap();
    let played = session.play(&[Plan::new(&s)], &schedule).unwrap();
    assert_eq!(played[0].tally.trials, 1_844_675);
    assert_eq!(
        played[0].tally.reached[0], 1_844_675,
        "every trial reaches the first phase"
    );
}

#[test]
fn a_thousand_threads_are_not_started_for_a_tiny_run() {
    // `--threads 1000` started 1,000 OS threads for a 20 ms job; 65,535 could exhaust the
    // machine's process ids. A run starts at most one worker per 65,536 trials.
    for (threads, trials, used) in [("1000", "1000", 1), ("65535", "200000", 4)] {
        let out = TempDir::new().unwrap();
        let started = Instant::now();
        killchain()
            .args([
                "run",
                NO_LOSS,
                "--trials",
                trials,
                "--quiet",
                "--threads",
                threads,
            ])
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        let elapsed = started.elapsed();
        let run: serde_json::Value =
            serde_json::from_slice(&fs::read(out.path().join("tiny/run.json")).unwrap()).unwrap();
        assert_eq!(run["threads"], used, "--threads {threads}, {trials} trials");
        assert!(elapsed < PROMPT, "--threads {threads}: {elapsed:?}");
    }
}

#[test]
fn shards_with_loss_are_equal_to_a_few_trials_and_merge_to_the_whole_run() {
    // 200,000 trials with [loss] in 3 shards were 65,551, 130,846 and 3,603 trials; in 8, three
    // shards had none and said "fewer trials than shards".
    let trials: u64 = 200_000;
    let root = TempDir::new().unwrap();
    let whole = root.path().join("whole");
    killchain()
        .args(["run", LOSS, "--trials", "200000", "--quiet", "--out"])
        .arg(&whole)
        .assert()
        .success();
    for n in [3u64, 8] {
        let mut dirs = Vec::new();
        let mut next = 0;
        for k in 1..=n {
            let out = root.path().join(format!("{n}-{k}"));
            let assert = killchain()
                .args(["run", LOSS, "--trials", "200000", "--shard"])
                .arg(format!("{k}/{n}"))
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
            assert!(!stdout.contains("no trials"), "{k}/{n}: {stdout}");
            let dir = out.join("loss");
            let t: serde_json::Value =
                serde_json::from_slice(&fs::read(dir.join("tally.json")).unwrap()).unwrap();
            let (start, end) = (
                t["trial_start"].as_u64().unwrap(),
                t["trial_end"].as_u64().unwrap(),
            );
            assert_eq!(start, next, "{k}/{n} starts where {}/{n} ended", k - 1);
            let ideal = k * trials / n;
            // A year holds a handful of campaigns (6 a year on average): the cut is the year
            // boundary nearest the ideal one.
            assert!(
                end.abs_diff(ideal) <= 12,
                "{k}/{n} ends at {end}, not near {ideal}"
            );
            next = end;
            dirs.push(dir);
        }
        assert_eq!(next, trials);
        let merged = root.path().join(format!("merged-{n}"));
        killchain()
            .arg("merge")
            .args(&dirs)
            .args(["--quiet", "--out"])
            .arg(&merged)
            .assert()
            .success();
        for file in [
            "phases.csv",
            "controls.csv",
            "techniques.csv",
            "loss_exceedance.csv",
        ] {
            assert!(
                fs::read(merged.join("loss").join(file)).unwrap()
                    == fs::read(whole.join("loss").join(file)).unwrap(),
                "{n} shards: {file} differs from the unsharded run"
            );
        }
        assert_eq!(
            manifest(&merged.join("loss")),
            manifest(&whole.join("loss"))
        );
    }
}
