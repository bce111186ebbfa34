//! SIGINT and SIGTERM during a long run: the conventional exit status, a clear message, and the
//! previous results left byte for byte as they were, with no temporary file behind.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::support::killchain_process;

const SCENARIO: &str = "benches/data/reference.toml";

/// Every file under `dir` (hidden ones included) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Runs a short run into a fresh folder, then a run too long to finish into the same folder,
/// sends it `signal` after half a second, and checks what it leaves.
fn interrupted_run_leaves_previous_results(signal: Signal, status: i32) {
    let out = TempDir::new().unwrap();
    let first = killchain_process()
        .args(["run", SCENARIO, "--trials", "1000", "--quiet", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let dir = out.path().join("reference");
    let before = snapshot(&dir);
    assert_eq!(before.len(), 4, "{:?}", before.keys());

    let mut child = killchain_process()
        .args(["run", SCENARIO, "--trials", "2000000000", "--threads", "2"])
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    sleep(Duration::from_millis(500));
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, signal).unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the run did not stop within 30 s of {signal}");
        }
        sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(status), "stderr: {stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: interrupted; previous results in {} are unchanged\n",
            dir.display()
        )
    );
    assert!(output.stdout.is_empty());
    assert_eq!(snapshot(&dir), before, "the previous results changed");
}

#[test]
fn sigterm_stops_a_run_with_status_143_and_keeps_previous_results() {
    interrupted_run_leaves_previous_results(Signal::SIGTERM, 143);
}

#[test]
fn sigint_stops_a_run_with_status_130_and_keeps_previous_results() {
    interrupted_run_leaves_previous_results(Signal::SIGINT, 130);
}
