//! Sharded runs: N shards merged give the whole run's files byte for byte; `merge` refuses
//! shards that do not make up one run; the recipes in `deploy/` work as written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use predicates::prelude::*;
use tempfile::TempDir;

use crate::support::{killchain, manifest, refused};

const SCENARIO: &str = "scenarios/saas-credential-phishing.toml";
const STEM: &str = "saas-credential-phishing";
const CSV: [&str; 3] = ["phases.csv", "controls.csv", "techniques.csv"];

/// The shard and merge commands every cluster recipe and the README share.
const RUN_LINE: &str = r#"killchain run "$SCENARIO" --shard "$K/$N" --out "$OUT/shard-$K" --quiet"#;
const MERGE_LINE: &str = r#"killchain merge "$OUT"/shard-*/"$STEM" --out "$OUT""#;

/// `killchain run SCENARIO --quiet --seed SEED --trials TRIALS --out OUT EXTRA...`, which must
/// succeed.
fn run(out: &Path, seed: u64, trials: u64, extra: &[&str]) {
    killchain()
        .args(["run", SCENARIO, "--quiet"])
        .args(["--seed", &seed.to_string(), "--trials", &trials.to_string()])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Shard `k` of `n` into `root/shard-k/`; returns its output folder.
fn shard(root: &Path, k: u64, n: u64, seed: u64, trials: u64) -> PathBuf {
    let out = root.join(format!("shard-{k}"));
    run(&out, seed, trials, &["--shard", &format!("{k}/{n}")]);
    out.join(STEM)
}

/// Asserts that `merged` holds the same results as `whole`.
fn assert_same_results(merged: &Path, whole: &Path, what: &str) {
    for file in CSV {
        let a = fs::read(merged.join(file)).unwrap();
        assert!(a.len() > 100, "{what}: {file} is nearly empty");
        assert!(
            a == fs::read(whole.join(file)).unwrap(),
            "{what}: {file} differs from the unsharded run"
        );
    }
    assert_eq!(
        manifest(merged),
        manifest(whole),
        "{what}: run.json differs"
    );
}

#[test]
fn merged_shards_equal_the_whole_run_byte_for_byte() {
    // Not divisible by 2, 3 or 7, and over two engine chunks, so slices start mid-chunk.
    let (seed, trials) = (4242, 130_001);
    let whole = TempDir::new().unwrap();
    run(whole.path(), seed, trials, &[]);
    for n in [1u64, 2, 3, 7] {
        let root = TempDir::new().unwrap();
        let dirs: Vec<PathBuf> = (1..=n)
            .map(|k| shard(root.path(), k, n, seed, trials))
            .collect();
        // Each shard describes its own slice: trial counts add up to the whole run's.
        let mut covered = 0;
        for (k, d) in (1..=n).zip(&dirs) {
            let t: serde_json::Value =
                serde_json::from_slice(&fs::read(d.join("tally.json")).unwrap()).unwrap();
            assert_eq!(t["shard"], k);
            assert_eq!(t["shards"], n);
            assert_eq!(t["trials"], trials);
            assert_eq!(t["trial_start"], covered);
            covered = t["trial_end"].as_u64().unwrap();
            assert_eq!(
                manifest(d)["trials"],
                covered - t["trial_start"].as_u64().unwrap()
            );
        }
        assert_eq!(covered, trials);
        let merged = root.path().join("merged");
        // Shards in any order.
        killchain()
            .arg("merge")
            .args(dirs.iter().rev())
            .arg("--out")
            .arg(&merged)
            .arg("--quiet")
            .assert()
            .success()
            .stdout("");
        assert_same_results(
            &merged.join(STEM),
            &whole.path().join(STEM),
            &format!("{n} shards"),
        );
    }
}

#[test]
fn shards_without_trials_merge_too() {
    let whole = TempDir::new().unwrap();
    run(whole.path(), 5, 2, &[]);
    let root = TempDir::new().unwrap();
    let dirs: Vec<PathBuf> = (1..=3).map(|k| shard(root.path(), k, 3, 5, 2)).collect();
    killchain()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(root.path().join("merged"))
        .arg("--quiet")
        .assert()
        .success();
    assert_same_results(
        &root.path().join("merged").join(STEM),
        &whole.path().join(STEM),
        "2 trials in 3 shards",
    );
}

/// Three shards of seed 77 and shard 2/3 of seed 78, in one folder.
struct Shards {
    root: TempDir,
    dirs: Vec<PathBuf>,
    other_seed: PathBuf,
}

fn shards() -> Shards {
    let root = TempDir::new().unwrap();
    let dirs = (1..=3)
        .map(|k| shard(root.path(), k, 3, 77, 1001))
        .collect();
    let other_seed = shard(&root.path().join("seed-78"), 2, 3, 78, 1001);
    Shards {
        root,
        dirs,
        other_seed,
    }
}

/// `killchain merge DIRS --out <fresh>` must fail with status 2, print each of `expected` on
/// stderr, and write nothing.
fn merge_fails(dirs: &[&Path], expected: &[&str]) {
    let merge = [Path::new("merge")];
    let mut assert = refused(merge.iter().chain(dirs)).stdout("");
    for e in expected {
        assert = assert.stderr(predicate::str::contains(*e));
    }
}

#[test]
fn merge_refuses_a_missing_shard() {
    let s = shards();
    merge_fails(
        &[&s.dirs[0], &s.dirs[2]],
        &["error: shard 2 of 3 missing; merge needs the folders of all 3 shards"],
    );
    merge_fails(&[&s.dirs[1]], &["error: shards 1, 3 of 3 missing"]);
}

#[test]
fn merge_refuses_a_shard_given_twice() {
    let s = shards();
    let twice = format!(
        "error: {}: shard 2/3 again (also {}); give each shard's folder once",
        s.dirs[1].join("tally.json").display(),
        s.dirs[1].join("tally.json").display()
    );
    merge_fails(&[&s.dirs[0], &s.dirs[1], &s.dirs[1], &s.dirs[2]], &[&twice]);
}

#[test]
fn merge_refuses_shards_of_another_seed() {
    let s = shards();
    let msg = format!(
        "error: {}: seed 78 differs from 77 in {};",
        s.other_seed.join("tally.json").display(),
        s.dirs[0].join("tally.json").display()
    );
    merge_fails(&[&s.dirs[0], &s.other_seed, &s.dirs[2]], &[&msg]);
}

#[test]
fn merge_refuses_a_folder_without_tally_and_a_damaged_tally() {
    let s = shards();
    let plain = s.root.path().join("plain");
    run(&plain, 77, 1001, &[]);
    let plain = plain.join(STEM);
    let msg = format!(
        "error: {}: cannot read the shard's tally (",
        plain.join("tally.json").display()
    );
    merge_fails(&[&s.dirs[0], &plain, &s.dirs[2]], &[&msg]);

    let tally = s.dirs[1].join("tally.json");
    let good = fs::read_to_string(&tally).unwrap();
    let name = tally.display().to_string();
    let reseal = |text: String| killchain::fuzzing::reseal(text.as_bytes()).unwrap();
    let cases: [(Vec<u8>, &str); 6] = [
        (good[..good.len() / 2].into(), "not valid JSON ("),
        (
            b"[1, 2, 3]\n".to_vec(),
            "no format_version: not a killchain tally.json",
        ),
        (
            good.replace("\"format_version\": 3", "\"format_version\": 2")
                .into(),
            "tally format version 2; this killchain reads version 3 only: run the shards again with this killchain",
        ),
        (
            good.replacen("name = \\\"", "name = \\\"X", 1).into(),
            "content_sha256 does not match the file's content; the file was damaged or altered after the shard wrote it",
        ),
        (
            reseal(good.replacen("name = \\\"", "name = \\\"X", 1)),
            "the embedded scenario text does not match its SHA-256; the file was altered",
        ),
        (
            // With [loss] the shard is cut on the year boundaries nearest 1001·1/3 and 1001·2/3.
            reseal(good.replacen("\"trials\": 336", "\"trials\": 337", 1)),
            "shard 2/3 of 1001 trials covers trials 332..668, but the file holds 337 trials for 332..668; the file was altered",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(
            text,
            good.as_bytes(),
            "{expected}: the test did not alter the file"
        );
        fs::write(&tally, text).unwrap();
        merge_fails(
            &[&s.dirs[0], &s.dirs[1], &s.dirs[2]],
            &[&format!("error: {name}: {expected}")],
        );
    }
}

#[test]
fn shard_must_be_k_of_n_with_k_from_1_to_n() {
    for (arg, expected) in [
        ("0/3", "shard 0 of 3 does not exist; K runs from 1 to 3"),
        ("4/3", "shard 4 of 3 does not exist; K runs from 1 to 3"),
        ("1/0", "the number of shards N must be at least 1"),
        (
            "x",
            "expected K/N, e.g. 2/8 for the second of 8 shards, not \"x\"",
        ),
    ] {
        refused(["run", SCENARIO, "--shard", arg])
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "error: invalid value '{arg}' for '--shard <K/N>': {expected}"
            )));
    }
}

/// The folder holding the `killchain` binary under test, for recipes that call it by name.
fn path_with_killchain() -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_killchain"));
    let dir = bin.parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs `script` with `sh -c` in the package root with the binary on the PATH and `env`.
fn shell<K: AsRef<std::ffi::OsStr>>(script: &str, env: &[(K, String)]) {
    let status = Process::new("sh")
        .args(["-c", script])
        .env("PATH", path_with_killchain())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{script}: {status}");
}

/// The whole run with the scenario file's own seed and trials, as the recipes run it.
fn whole_default_run() -> TempDir {
    let whole = TempDir::new().unwrap();
    killchain()
        .args(["run", SCENARIO, "--quiet", "--out"])
        .arg(whole.path())
        .assert()
        .success();
    whole
}

#[test]
fn gnu_parallel_recipe_gives_the_whole_run() {
    let version = Process::new("parallel").arg("--version").output();
    if !version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU parallel")) {
        // Straight to stderr, past the test harness's capture, so the skip is always seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: skipping gnu_parallel_recipe_gives_the_whole_run: GNU parallel is not installed"
        );
        return;
    }
    let out = TempDir::new().unwrap();
    let status = Process::new("bash")
        .arg("deploy/gnu-parallel.sh")
        .arg(SCENARIO)
        .arg("3")
        .arg(out.path())
        .env("KILLCHAIN", env!("CARGO_BIN_EXE_killchain"))
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "deploy/gnu-parallel.sh: {status}");
    let whole = whole_default_run();
    assert_same_results(&out.path().join(STEM), &whole.path().join(STEM), "parallel");
}

#[test]
fn slurm_recipe_runs_as_an_array_and_merges() {
    let text = fs::read_to_string("deploy/slurm.sbatch").unwrap();
    assert!(text.contains("#SBATCH --array=1-"), "no job array");
    assert!(text.contains(RUN_LINE), "slurm.sbatch lacks {RUN_LINE}");
    assert!(text.contains(MERGE_LINE), "slurm.sbatch lacks {MERGE_LINE}");
    assert!(text.contains("--dependency=afterok:"), "no dependent merge");
    // Play Slurm: three array tasks, then the merge the comment submits.
    let out = TempDir::new().unwrap();
    let env = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("SCENARIO", SCENARIO.to_owned()),
            ("OUT", out.path().display().to_string()),
            ("STEM", STEM.to_owned()),
        ];
        v.extend_from_slice(extra);
        v
    };
    for k in 1..=3 {
        let task = [
            ("SLURM_ARRAY_TASK_ID", k.to_string()),
            ("SLURM_ARRAY_TASK_MAX", "3".to_owned()),
        ];
        shell("bash deploy/slurm.sbatch", &env(&task));
    }
    shell(MERGE_LINE, &env(&[]));
    let whole = whole_default_run();
    assert_same_results(&out.path().join(STEM), &whole.path().join(STEM), "slurm");
}

/// A container's `args[0]` script and its environment, from a Job in the manifest.
fn container(job: &serde_norway::Value) -> (String, Vec<(String, String)>) {
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"][0].as_str(), Some("/bin/sh"));
    let script = c["args"][0].as_str().unwrap().to_owned();
    let env = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("name"), s("value"))
        })
        .collect();
    (script, env)
}

#[test]
fn kubernetes_recipe_is_an_indexed_job_and_a_merge_job() {
    use serde::Deserialize;
    let text = fs::read_to_string("deploy/k8s-indexed-job.yaml").unwrap();
    let docs: Vec<serde_norway::Value> = serde_norway::Deserializer::from_str(&text)
        .map(|d| serde_norway::Value::deserialize(d).unwrap())
        .collect();
    let by_name = |name: &str| {
        docs.iter()
            .find(|d| d["metadata"]["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in the manifest"))
    };
    assert_eq!(
        by_name("killchain-results")["kind"].as_str(),
        Some("PersistentVolumeClaim")
    );
    let shards = by_name("killchain-shards");
    let merge = by_name("killchain-merge");
    assert_eq!(shards["kind"].as_str(), Some("Job"));
    assert_eq!(merge["kind"].as_str(), Some("Job"));
    assert_eq!(shards["spec"]["completionMode"].as_str(), Some("Indexed"));
    let (run_script, run_env) = container(shards);
    let (merge_script, merge_env) = container(merge);
    assert!(
        run_script.contains(RUN_LINE),
        "the shard Job lacks {RUN_LINE}"
    );
    assert!(run_script.contains("JOB_COMPLETION_INDEX + 1"));
    assert!(
        merge_script.contains(MERGE_LINE),
        "the merge Job lacks {MERGE_LINE}"
    );
    let n: u64 = run_env
        .iter()
        .find(|(k, _)| k == "N")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(shards["spec"]["completions"].as_u64(), Some(n));
    let stem = &merge_env.iter().find(|(k, _)| k == "STEM").unwrap().1;
    let scenario = &run_env.iter().find(|(k, _)| k == "SCENARIO").unwrap().1;
    assert!(
        scenario.ends_with(&format!("/{stem}.toml")),
        "{scenario} vs {stem}"
    );

    // Play Kubernetes: the indexed pods (with three completions), then the merge pod, with the
    // manifest's own scripts; the volumes become local folders.
    let out = TempDir::new().unwrap();
    let local = |env: &[(String, String)], extra: &[(&'static str, String)]| {
        let mut v: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| {
                let v = match k.as_str() {
                    "SCENARIO" => SCENARIO.to_owned(),
                    "OUT" => out.path().display().to_string(),
                    "STEM" => STEM.to_owned(),
                    "N" => "3".to_owned(),
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        v.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        v
    };
    for index in 0..3 {
        let pod = [("JOB_COMPLETION_INDEX", index.to_string())];
        shell(&run_script, &local(&run_env, &pod));
    }
    shell(&merge_script, &local(&merge_env, &[]));
    let whole = whole_default_run();
    assert_same_results(&out.path().join(STEM), &whole.path().join(STEM), "k8s");
}

#[test]
fn the_kubernetes_recipe_names_the_image_the_dockerfile_builds() {
    let manifest = fs::read_to_string("deploy/k8s-indexed-job.yaml").unwrap();
    let dockerfile = fs::read_to_string("Dockerfile").unwrap();
    let readme = fs::read_to_string("README.md").unwrap();
    let image = format!("killchain:{}", env!("CARGO_PKG_VERSION"));
    let images: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image:"))
        .map(str::trim)
        .collect();
    assert_eq!(images, [image.as_str(), image.as_str()], "the Jobs' images");
    let build = format!("docker build -t {image} .");
    for (name, text) in [
        ("Dockerfile", &dockerfile),
        ("the manifest", &manifest),
        ("README.md", &readme),
    ] {
        assert!(text.contains(&build), "{name} lacks `{build}`");
    }
    // The build stage installs from the lock file; the runtime stage puts the binary on PATH
    // and runs as the user the pods ask for.
    assert!(dockerfile.contains("RUN cargo install --locked --path . --root /opt/killchain"));
    assert!(
        dockerfile
            .contains("COPY --from=build /opt/killchain/bin/killchain /usr/local/bin/killchain")
    );
    assert!(dockerfile.contains("\nUSER 10001:10001\n"));
    assert_eq!(manifest.matches("runAsUser: 10001").count(), 2);
}

#[test]
fn readme_shows_the_recipes_commands() {
    let readme = fs::read_to_string("README.md").unwrap();
    for line in [RUN_LINE, MERGE_LINE] {
        assert!(readme.contains(line), "README.md lacks {line}");
    }
    let parallel = fs::read_to_string("deploy/gnu-parallel.sh").unwrap();
    assert!(parallel.contains("parallel \"$killchain\" run \"$SCENARIO\" --shard {}/\"$N\""));
    for script in ["deploy/gnu-parallel.sh", "deploy/slurm.sbatch"] {
        let ok = Process::new("bash").args(["-n", script]).status().unwrap();
        assert!(ok.success(), "{script} is not valid bash");
    }
}
