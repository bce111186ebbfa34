//! The progress bar is for people at a terminal: a run whose stderr is a pipe writes nothing
//! there, however long it takes.

use std::time::{Duration, Instant};

use tempfile::TempDir;

#[test]
fn a_long_run_with_stderr_piped_writes_nothing_to_stderr() {
    let out = TempDir::new().unwrap();
    let started = Instant::now();
    // Seconds in a test (debug) build: past the one second after which a terminal gets a bar.
    let output = crate::support::killchain()
        .args([
            "run",
            "benches/data/reference.toml",
            "--trials",
            "1500000",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(!output.stdout.is_empty(), "the funnel goes to stdout");
    if took < Duration::from_millis(1200) {
        eprintln!("note: the run took {took:?}, before any bar would have appeared");
    }
}
