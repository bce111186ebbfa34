//! Result folders: stems that would escape the folder, concurrent writers, crashes between writes, stale files, and destinations that cannot be written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;

use crate::support::{entries, killchain, killchain_process};

const TINY: &str = "tests/data/valid/tiny.toml";
const LOSS: &str = "tests/data/valid/loss.toml";
const REFERENCE: &str = "benches/data/reference.toml";

/// `src` copied to `dir/name`; its path.
fn copy_as(src: &str, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    fs::copy(src, &path).unwrap();
    path
}

/// A result folder's set: every entry (hidden ones included) with its bytes, run.json without
/// the fields that describe the machine rather than the results (wall time, rate, threads).
fn set_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let mut bytes = fs::read(e.path()).unwrap();
            if name == "run.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                for k in ["wall_time_seconds", "trials_per_second", "threads"] {
                    v.as_object_mut().unwrap().remove(k);
                }
                bytes = v.to_string().into_bytes();
            }
            (name, bytes)
        })
        .collect()
}

/// Waits for `child` at most `limit`; its exit code (None when a signal ended it).
fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("killchain did not end within {limit:?}");
        }
        sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_stem_of_dot_dot_is_refused_and_nothing_is_written_outside_the_output_folder() {
    let base = TempDir::new().unwrap();
    let scenario = copy_as(TINY, base.path(), "...toml");
    let out = base.path().join("out");
    for command in [
        vec!["run"],
        vec!["exact"],
        vec!["rank"],
        vec!["compare", TINY],
    ] {
        let output = killchain()
            .args(&command[..1])
            .arg(&scenario)
            .args(&command[1..])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "error: {}: the result folder's name \"..\" starts with `.`; it must be a plain name: not empty, not starting with `.`, no `/` or `\\`, at most 200 bytes\n",
                scenario.display()
            ),
            "{command:?}"
        );
        assert_eq!(
            entries(base.path()),
            ["...toml"],
            "{command:?} wrote something"
        );
    }
}

/// Two stems each within the limit make a `<a>-vs-<b>` name beyond it: refused as bad input,
/// before anything is created, not an I/O error from a name the file system cannot hold.
#[test]
fn a_compare_pair_name_longer_than_a_name_may_be_is_refused() {
    let base = TempDir::new().unwrap();
    let (sa, sb) = ("a".repeat(150), "b".repeat(150));
    let a = copy_as(TINY, base.path(), &format!("{sa}.toml"));
    let b = copy_as(TINY, base.path(), &format!("{sb}.toml"));
    let out = base.path().join("out");
    let output = killchain()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: {} and {}: the result folder's name \"{sa}-vs-{sb}\" is longer than 200 bytes; it must be a plain name: not empty, not starting with `.`, no `/` or `\\`, at most 200 bytes\n",
            a.display(),
            b.display()
        )
    );
    assert!(!out.exists(), "{:?}", entries(base.path()));
}

#[test]
fn a_shard_whose_scenario_file_would_escape_the_output_folder_is_refused() {
    let base = TempDir::new().unwrap();
    let mut shards = Vec::new();
    for k in ["1/2", "2/2"] {
        let out = base.path().join(format!("shard-{}", &k[..1]));
        killchain()
            .args(["run", TINY, "--quiet", "--shard", k, "--out"])
            .arg(&out)
            .assert()
            .success();
        let dir = out.join("tiny");
        let path = dir.join("tally.json");
        let mut tally: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        tally["scenario_file"] = "...".into();
        fs::write(&path, serde_json::to_vec(&tally).unwrap()).unwrap();
        shards.push(dir);
    }
    let before = entries(base.path());
    // `..` under out/merged is base itself: nothing may appear there, nor under out.
    let out = base.path().join("merged");
    let output = killchain()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let tally = shards[0].join("tally.json");
    assert!(
        stderr.starts_with(&format!("error: {}: ", tally.display())),
        "{stderr}"
    );
    assert_eq!(entries(base.path()), before, "merge wrote outside --out");
    for dir in &shards {
        assert_eq!(
            entries(dir),
            [
                "controls.csv",
                "phases.csv",
                "run.json",
                "tally.json",
                "techniques.csv"
            ]
        );
    }
}

/// The run of `scenario` with `seed` into a fresh folder: the set it writes.
fn reference_set(scenario: &Path, seed: &str, trials: &str) -> BTreeMap<String, Vec<u8>> {
    let out = TempDir::new().unwrap();
    killchain()
        .arg("run")
        .arg(scenario)
        .args([
            "--quiet",
            "--threads",
            "1",
            "--seed",
            seed,
            "--trials",
            trials,
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let stem = scenario.file_stem().unwrap();
    set_of(&out.path().join(stem))
}

#[test]
fn a_second_writer_into_the_same_folder_fails_at_once_naming_the_first() {
    let base = TempDir::new().unwrap();
    let out = base.path().join("out");
    let dir = out.join("reference");
    let mut first = killchain_process()
        .args(["run", REFERENCE, "--quiet", "--threads", "1", "--seed", "1"])
        .args(["--trials", "400000", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first holds the folder's lock from before its first trial to its last write.
    let lock = out.join(".reference.lock");
    let started = Instant::now();
    while fs::read_to_string(&lock).map_or(true, |pid| pid.is_empty()) {
        assert!(started.elapsed() < Duration::from_secs(10), "no lock taken");
        sleep(Duration::from_millis(1));
    }
    let second = killchain()
        .args([
            "run", REFERENCE, "--quiet", "--seed", "2", "--trials", "1000", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    assert!(
        still_running,
        "the first run ended too soon for the test to mean anything"
    );
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    assert_eq!(
        String::from_utf8_lossy(&second.stderr),
        format!(
            "error: another killchain is writing to {} (pid {}); wait for it to finish, or write elsewhere with --out\n",
            dir.display(),
            first.id()
        )
    );
    assert_eq!(wait_for(&mut first, Duration::from_secs(60)), Some(0));
    assert_eq!(
        set_of(&dir),
        reference_set(Path::new(REFERENCE), "1", "400000"),
        "the folder is not the first run's set"
    );
    assert_eq!(
        entries(&out),
        ["reference"],
        "a lock or staging folder left behind"
    );
}

#[test]
fn files_an_earlier_run_wrote_do_not_survive_a_run_that_does_not_write_them() {
    let base = TempDir::new().unwrap();
    let out = base.path().join("out");
    let dir = out.join("x");
    let scenario = copy_as(LOSS, base.path(), "x.toml");
    succeeds("run", &scenario, &["--quiet", "--shard", "1/2"], &out);
    assert_eq!(
        entries(&dir),
        [
            "controls.csv",
            "loss_exceedance.csv",
            "phases.csv",
            "run.json",
            "tally.json",
            "techniques.csv"
        ]
    );
    // A temporary file an older killchain left when it was killed between its renames.
    fs::write(dir.join(".phases.csv.Ab12Cd"), "half a file").unwrap();
    // The same stem, now without [loss] and not a shard: neither file is this run's.
    fs::copy(TINY, &scenario).unwrap();
    succeeds("run", &scenario, &["--quiet", "--threads", "1"], &out);
    assert_eq!(set_of(&dir), reference_set(&scenario, "7", "1000"));
    assert_eq!(entries(&out), ["x"]);

    // Another command's file is kept beside a run's; a rendering never outlives a new file.
    succeeds("run", &scenario, &["--quiet", "--report"], &out);
    succeeds("rank", &scenario, &["--quiet"], &out);
    assert_eq!(
        entries(&dir),
        [
            "controls.csv",
            "phases.csv",
            "ranking.csv",
            "run.json",
            "techniques.csv"
        ],
        "report.html of the run beside the newer ranking.csv"
    );
}

#[test]
fn a_result_folder_holding_a_folder_is_not_replaced() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("tiny");
    fs::create_dir_all(dir.join("notes")).unwrap();
    fs::write(dir.join("notes").join("n.txt"), "mine").unwrap();
    killchain()
        .args(["run", TINY, "--trials", "2000000000", "--out"])
        .arg(out.path())
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "error: cannot write to {}: notes in it is not a regular file; a result folder is replaced as a whole and holds only files: move it away or write elsewhere with --out\n",
            dir.display()
        ));
    assert_eq!(entries(out.path()), ["tiny"]);
    assert_eq!(
        fs::read_to_string(dir.join("notes").join("n.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_destination_that_cannot_be_written_fails_before_simulating() {
    let base = TempDir::new().unwrap();
    let file = base.path().join("file");
    fs::write(&file, "not a folder").unwrap();
    let out = file.join("out");
    let optimize = "scenarios/ransomware-midsize.toml";
    for (command, scenario, stem) in [
        (vec!["run"], TINY, "tiny"),
        (
            vec!["compare"],
            "tests/data/valid/variants.toml",
            "variants",
        ),
        (vec!["rank"], TINY, "tiny"),
        (
            vec!["optimize", "--budget", "100000"],
            optimize,
            "ransomware-midsize",
        ),
    ] {
        let started = Instant::now();
        let output = killchain()
            .arg(command[0])
            .arg(scenario)
            .args(&command[1..])
            .args(["--trials", "2000000000", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let took = started.elapsed();
        assert_eq!(output.status.code(), Some(1), "{command:?}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "error: cannot write to {}: cannot create {}: Not a directory (os error 20)\n",
                out.join(stem).display(),
                out.display()
            ),
            "{command:?}"
        );
        assert!(output.stdout.is_empty(), "{command:?}");
        // Two billion trials take minutes; the check takes milliseconds.
        assert!(took < Duration::from_secs(5), "{command:?} took {took:?}");
    }
    assert_eq!(entries(base.path()), ["file"]);
}

#[test]
fn an_interrupted_first_run_leaves_no_empty_folder_behind() {
    let base = TempDir::new().unwrap();
    let out = base.path().join("new").join("deeper");
    let mut child = killchain_process()
        .args([
            "run",
            REFERENCE,
            "--trials",
            "2000000000",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The destination is prepared (created, locked, staged) before the first trial.
    let started = Instant::now();
    while !out.join(".reference.lock").exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "no lock taken");
        sleep(Duration::from_millis(1));
    }
    sleep(Duration::from_millis(100));
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    assert_eq!(wait_for(&mut child, Duration::from_secs(30)), Some(130));
    assert_eq!(entries(base.path()), Vec::<String>::new());
}

/// Whether `name`, an entry of the output folder beside the result folder `x`, is one a killed
/// writer may leave: its lock, or a staging folder (with the new set, or the old one swapped out).
fn leftover_of_a_killed_writer(name: &str) -> bool {
    name == ".x.lock"
        || name
            .strip_prefix(".x.staging-")
            .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether a staging folder beside `x` in `out` holds a file.
fn staging_has_files(out: &Path) -> bool {
    fs::read_dir(out).unwrap().any(|e| {
        let e = e.unwrap();
        e.file_name().to_string_lossy().starts_with(".x.staging-")
            && fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
    })
}

#[test]
fn sigkill_at_any_moment_leaves_one_complete_set_old_or_new() {
    let base = TempDir::new().unwrap();
    // Two runs into one folder x: one with [loss] (five files), one without (four).
    let (a, b) = (base.path().join("a"), base.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let runs = [copy_as(LOSS, &a, "x.toml"), copy_as(TINY, &b, "x.toml")];
    const TRIALS: &str = "300000";
    let sets = [
        reference_set(&runs[0], "1", TRIALS),
        reference_set(&runs[1], "2", TRIALS),
    ];
    assert_eq!(sets[0].len(), 5);
    assert_eq!(sets[1].len(), 4);
    let out = base.path().join("out");
    let dir = out.join("x");
    let start = |i: usize| {
        killchain_process()
            .arg("run")
            .arg(&runs[i])
            .args([
                "--quiet",
                "--threads",
                "1",
                "--seed",
                ["1", "2"][i],
                "--trials",
                TRIALS,
            ])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = start(0);
    assert_eq!(wait_for(&mut child, Duration::from_secs(30)), Some(0));
    // How long one run takes here, to spread the kills over all of it.
    let timed = Instant::now();
    let mut child = start(1);
    assert_eq!(wait_for(&mut child, Duration::from_secs(30)), Some(0));
    let span = timed.elapsed().as_micros() as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // Rounds by where the kill landed: computing (an empty staging folder), writing the new
    // set (a staging folder with files), after the swap (the new set, the process killed), or
    // after the end.
    let (mut computing, mut staging, mut swapped, mut finished) = (0, 0, 0, 0);
    let mut previous = 1;
    for round in 0..50 {
        let i = round % 2;
        let mut child = start(i);
        if round % 4 < 2 {
            sleep(Duration::from_micros(rng.random_range(0..span * 3 / 2)));
        } else {
            // Once the new set is being written: the short phases, writing, flushing, swapping.
            while !staging_has_files(&out) && child.try_wait().unwrap().is_none() {
                sleep(Duration::from_micros(50));
            }
            sleep(Duration::from_micros(rng.random_range(0..3000)));
        }
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let _ = kill(pid, Signal::SIGKILL);
        let code = wait_for(&mut child, Duration::from_secs(30));
        let now = set_of(&dir);
        assert!(
            now == sets[0] || now == sets[1],
            "round {round}: a mixed or partial set: {:?}",
            now.keys()
        );
        let staged = staging_has_files(&out);
        match code {
            Some(0) => finished += 1,
            None if now == sets[i] && i != previous => swapped += 1,
            None if staged => staging += 1,
            None => computing += 1,
            Some(code) => panic!("round {round}: exit status {code}"),
        }
        if now == sets[i] {
            previous = i;
        }
        for name in entries(&out) {
            assert!(
                name == "x" || leftover_of_a_killed_writer(&name),
                "round {round}: {name} in the output folder"
            );
        }
    }
    assert!(
        computing >= 1
            && staging >= 1
            && staging + swapped >= 3
            && computing + staging + swapped >= 20,
        "kills in computing {computing}, staging {staging}, after the swap {swapped}; finished {finished}"
    );
    // The next run cleans what the killed ones left.
    let mut child = start(0);
    assert_eq!(wait_for(&mut child, Duration::from_secs(30)), Some(0));
    assert_eq!(set_of(&dir), sets[0]);
    assert_eq!(entries(&out), ["x"]);
}

/// `killchain <command> <scenario> <flags> --out <out>` succeeds.
fn succeeds(command: &str, scenario: &Path, flags: &[&str], out: &Path) {
    killchain()
        .arg(command)
        .arg(scenario)
        .args(flags)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}
