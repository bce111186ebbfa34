//! Helpers every test module shares: the binary under test, the paths of fixtures, and readers
//! of what a run leaves on disk (CSV tables, run.json, folder listings).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::sync::atomic::AtomicUsize;

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use tempfile::TempDir;

use killchain::engine::{Plan, Watch};
use killchain::money::LossModel;
use killchain::scenario::Scenario;
use killchain::sim::{ArmResult, Schedule, Session};
use killchain::stats::Tally;

/// The `killchain` binary built for this test run, started in the crate's root so that the
/// fixtures' relative paths (and the `scenario_file` written into run.json) are the same on
/// every machine.
pub fn killchain() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("killchain");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The same binary as a plain process, for tests that signal it or give it a terminal.
pub fn killchain_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_killchain"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `tests/data/invalid/KIND.toml`.
pub fn invalid(kind: &str) -> String {
    format!("tests/data/invalid/{kind}.toml")
}

/// The scenario file at `path`, parsed and validated; panics naming the file otherwise.
pub fn load(path: &str) -> Scenario {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Scenario::from_toml(&text, path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The stderr of a rejected scenario file: one `error: PATH:DIAGNOSTIC` line per diagnostic.
pub fn diagnostics(path: &str, diagnostics: &[&str]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("error: {path}:{d}\n"))
        .collect()
}

/// Asserts that `validate PATH` exits with status 2, prints nothing on stdout and exactly these
/// diagnostics on stderr, in this order.
pub fn validate_rejects(path: &str, expected: &[&str]) {
    killchain()
        .args(["validate", path])
        .assert()
        .code(2)
        .stdout("")
        .stderr(diagnostics(path, expected));
}

/// Runs `killchain ARGS --out <fresh folder>`, asserts exit status 2 and that nothing at all was
/// written under the folder, and hands back the run's output for its text to be checked.
pub fn refused<I, S>(args: I) -> Assert
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = TempDir::new().unwrap();
    let assert = killchain()
        .args(args)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2);
    assert_eq!(
        entries(out.path()),
        Vec::<String>::new(),
        "a refused command wrote into its output folder\n{}",
        String::from_utf8_lossy(&assert.get_output().stderr)
    );
    assert
}

/// Names of every entry (files, folders, hidden files) directly under `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The bytes of each of `names` under `dir`, in that order.
pub fn read_files(dir: &Path, names: &[&str]) -> Vec<Vec<u8>> {
    names
        .iter()
        .map(|n| fs::read(dir.join(n)).unwrap_or_else(|e| panic!("{}/{n}: {e}", dir.display())))
        .collect()
}

/// The records (header left out) of CSV bytes.
pub fn records(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(bytes)
        .records()
        .map(Result::unwrap)
        .collect()
}

/// `DIR/run.json` without the fields that describe the machine rather than the results (wall
/// time, rate, thread count).
pub fn manifest(dir: &Path) -> serde_json::Value {
    let path = dir.join("run.json");
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    for k in ["wall_time_seconds", "trials_per_second", "threads"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// A CSV file as header and rows of strings.
pub struct Csv {
    /// The column names.
    pub header: Vec<String>,
    /// Every record, each as many cells as the header.
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Reads the file at `path`; panics naming it when it is not CSV.
    pub fn read(path: &Path) -> Csv {
        let mut r = csv::Reader::from_path(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let header = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
            .collect();
        Csv { header, rows }
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// The cell of column `name` in row `row`.
    pub fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    /// Every cell of column `name`, top to bottom.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    /// Every cell of column `name`, each parsed as a number.
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|c| c.parse().unwrap_or_else(|_| panic!("{name}: {c:?}")))
            .collect()
    }
}

/// Plays `plans` (the first is the reference of the joint outcomes) on trials `0..trials` of a
/// run with `seed` (and, with `loss`, its simulated years) in a session of `threads` workers, all
/// cores when `None`: through the one driver every command uses.
pub fn play(
    plans: &[Plan],
    loss: Option<&LossModel>,
    seed: u64,
    trials: u64,
    threads: Option<usize>,
) -> Vec<ArmResult> {
    let stop = AtomicUsize::new(0);
    let session = Session::new(threads, &stop).expect("a worker pool");
    let schedule = Schedule::new(loss, seed, trials, None);
    session.play(plans, &schedule).expect("nobody stops it")
}

/// The counts of one plan's run, as `killchain run` plays it without `[loss]`.
pub fn run(plan: &Plan, seed: u64, trials: u64, threads: Option<usize>) -> Tally {
    let mut arms = play(std::slice::from_ref(plan), None, seed, trials, threads);
    arms.remove(0).tally
}

/// Runs `work` (a search, a shared evaluation) in a session that nobody stops.
pub fn unstopped<T: Send>(work: impl FnOnce(Watch<'_>) -> Option<T> + Send) -> T {
    let stop = AtomicUsize::new(0);
    let session = Session::new(None, &stop).expect("a worker pool");
    session.run(work).expect("nobody stops it")
}
